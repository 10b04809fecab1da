"""Reply templates of a cabinet (issue #10, K3): a title, a text and an optional file,
used by the cabinet's answers (cabinet.messages.post_message)."""
from sqlalchemy import select

from cabinet.i18n import N_
from cabinet.interfaces import IClock
from cabinet.message_input import (
    MAX_TITLE, TITLE_TOO_LONG, _refuse, check_attachment, clean_text, store_attachment,
)
from cabinet.models import MessageTemplate


def templates_of(session, cabinet):
    return list(session.scalars(select(MessageTemplate).where(
        MessageTemplate.cabinet_id == cabinet.id)
        .order_by(MessageTemplate.title, MessageTemplate.id)))


def template_of(session, cabinet, raw, field="template"):
    """The template ``raw`` (its id) of ``cabinet``; 422 for any other value (another
    cabinet's template is as unknown as a missing one)."""
    try:
        template_id = int(str(raw).strip())
    except (TypeError, ValueError):
        template_id = None
    found = session.scalar(select(MessageTemplate).where(
        MessageTemplate.id == template_id, MessageTemplate.cabinet_id == cabinet.id)) \
        if template_id is not None and 0 < template_id < 2**31 else None
    if found is None:
        raise _refuse(422, N_("Ce modèle de réponse n'existe pas."), field=field)
    return found


def template_values(fields):
    title = clean_text(fields.get("title"), "title", MAX_TITLE, TITLE_TOO_LONG)
    text = clean_text(fields.get("text"))
    if not title:
        raise _refuse(422, N_("Donnez un titre au modèle."), field="title")
    if not text:
        raise _refuse(422, N_("Écrivez le texte du modèle."), field="text")
    return title, text


def save_template(request, cabinet, template, entry):
    """Create (``template`` None) or change a template from ``entry`` (Input): title
    and text, a new file, or ``remove_file``."""
    fields = entry.fields
    if template is not None:        # a PATCH names only what changes
        fields = {"title": template.title, "text": template.text, **fields}
    title, text = template_values(fields)
    if entry.data is not None:      # refused before anything changes
        check_attachment(entry.data, entry.file_name)
    now = request.registry.getUtility(IClock).now()
    if template is None:
        template = MessageTemplate(cabinet_id=cabinet.id, created=now, content_type="",
                                   file_name="")
        request.dbsession.add(template)
    template.title, template.text, template.modified = title, text, now
    if entry.data is not None:
        store_attachment(request, template, entry.data, entry.file_name)
    elif str(entry.fields.get("remove_file", "")).lower() in ("1", "true", "on"):
        template.blob_sha256, template.size = None, None
        template.content_type, template.file_name = "", ""
    request.dbsession.flush()
    return template


