"""The schema of each content type's editable fields, derived from its columns so
that the model stays the single description of a type."""
import colander
from sqlalchemy import JSON, Boolean, Date, Integer, String

from cabinet.models import CONTENT_TYPES


class Mapping(colander.SchemaType):
    """A free JSON object (questionnaire answers)."""

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:   # JSON null: no answers
            return colander.null
        if not isinstance(cstruct, dict):
            raise colander.Invalid(node, "must be a JSON object")
        return cstruct


class StrictBoolean(colander.SchemaType):
    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if not isinstance(cstruct, bool):
            raise colander.Invalid(node, "must be true or false")
        return cstruct


class StrictInteger(colander.SchemaType):
    """A JSON whole number (not a boolean, not a string of digits)."""

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if not isinstance(cstruct, int) or isinstance(cstruct, bool):
            raise colander.Invalid(node, "must be a whole number")
        return cstruct


class Text(colander.String):
    def deserialize(self, node, cstruct):
        if cstruct is not colander.null and not isinstance(cstruct, str):
            raise colander.Invalid(node, "must be a string")
        return super().deserialize(node, cstruct)


def _field_node(name, column):
    kind = column.type
    if isinstance(kind, Boolean):
        return colander.SchemaNode(StrictBoolean(), name=name, missing=False)
    if isinstance(kind, Date):
        return colander.SchemaNode(colander.Date(), name=name, missing=None)
    if isinstance(kind, JSON):
        return colander.SchemaNode(Mapping(), name=name, missing=None)
    if isinstance(kind, Integer):   # absent: the column's default
        return colander.SchemaNode(StrictInteger(), name=name, missing=colander.drop,
                                   validator=colander.Range(min=0, max=2**31 - 1))
    if isinstance(kind, String):
        return colander.SchemaNode(Text(allow_empty=True), name=name, missing="",
                                   validator=colander.Length(max=kind.length or 10000))
    raise TypeError(f"no schema for column {name} of type {kind!r}")


def content_schema(portal_type):
    """Schema of ``title`` and the type's ``fields``."""
    cls = CONTENT_TYPES[portal_type]
    schema = colander.SchemaNode(colander.Mapping(unknown="raise"))
    if getattr(cls, "title_required", True):
        schema.add(colander.SchemaNode(Text(), name="title",
                                       validator=colander.Length(min=1, max=500)))
    else:   # the type makes a title when none is given (an appointment)
        schema.add(colander.SchemaNode(Text(allow_empty=True), name="title", missing="",
                                       validator=colander.Length(max=500)))
    columns = cls.__mapper__.columns
    for field in cls.fields:
        schema.add(_field_node(field, columns[field]))
    return schema
