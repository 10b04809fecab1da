"""The body of a new mandate (JSON API and the form of /spaces/<s>/mandates/@@add)."""
import colander

from cabinet.i18n import N_
from cabinet.mandates import DOMAINS
from .content import Text

REQUIRED = N_("Ce champ est obligatoire.")


class MandateSchema(colander.MappingSchema):
    provider = colander.SchemaNode(
        Text(), validator=colander.Length(min=1, max=300),
        missing_msg=REQUIRED)
    domain = colander.SchemaNode(
        Text(), validator=colander.OneOf(list(DOMAINS)), missing_msg=REQUIRED)
    activation_deadline = colander.SchemaNode(colander.Date(), missing_msg=REQUIRED)
    end_date = colander.SchemaNode(colander.Date(), missing_msg=REQUIRED)
    title = colander.SchemaNode(Text(allow_empty=True),
                                validator=colander.Length(max=500), missing="")


def mandate_schema():
    schema = MandateSchema()
    schema.typ.unknown = "raise"
    return schema
