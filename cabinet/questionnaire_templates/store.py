"""Creating, changing, ordering and deleting questionnaire templates (Q1): what the
JSON API (through the generic content API's hooks), the staff pages and the FHIR
import share."""
from sqlalchemy import func, select

from cabinet import errors
from cabinet.content import add_node
from cabinet.models import QuestionnaireTemplate
from cabinet.search import Query, search_statement
from cabinet.workflow import record_history
from cabinet.i18n import N_
from .versions import (
    current_version, delete_versions, lock_template, save_version, template_in_use,
    write_first_version,
)

PORTAL_TYPE = QuestionnaireTemplate.portal_type


def list_templates(request, folder):
    """The templates of ``folder`` the user may view, in the cabinet's order (one
    query, with the permission filter of cabinet.search)."""
    query = Query(portal_types=(PORTAL_TYPE,), depth=1)
    templates = list(request.dbsession.scalars(
        select(QuestionnaireTemplate).where(*search_statement(request, query, folder))
        .order_by(QuestionnaireTemplate.position, QuestionnaireTemplate.title,
                  QuestionnaireTemplate.id).limit(1000)))
    for template in templates:
        template.__parent__ = folder
    return templates


def _siblings(session, template):
    return list(session.scalars(
        select(QuestionnaireTemplate)
        .where(QuestionnaireTemplate.parent_id == template.parent_id)
        .order_by(QuestionnaireTemplate.position, QuestionnaireTemplate.title,
                  QuestionnaireTemplate.id)))


def next_position(session, folder):
    last = session.scalar(select(func.max(QuestionnaireTemplate.position)).where(
        QuestionnaireTemplate.parent_id == folder.id))
    return 0 if last is None else last + 1


def move_template(session, template, index):
    """Put ``template`` at ``index`` (0: first) of its cabinet's list; the others keep
    their order. Positions become 0, 1, 2 ..."""
    others = [t for t in _siblings(session, template) if t.id != template.id]
    index = max(0, min(index, len(others)))
    others.insert(index, template)
    for position, item in enumerate(others):
        if item.position != position:
            item.position = position
    session.flush()


def move_by(session, template, step):
    """Up (-1) or down (+1) one place."""
    siblings = _siblings(session, template)
    index = next(i for i, t in enumerate(siblings) if t.id == template.id)
    move_template(session, template, index + step)


def on_created(request, node, questions, position_given):
    """A new template: version 1, and the end of the list unless a position was set."""
    if position_given:
        move_template(request.dbsession, node, node.position)
    else:
        node.position = next_position(request.dbsession, node.__parent__)
        request.dbsession.flush()
    write_first_version(request.dbsession, request.registry, node, title=node.title,
                        description=node.description, questions=questions,
                        user=request.identity)


def create_template(request, folder, *, title, description, questions, name=None):
    """Add a template (staff pages, FHIR import) with its history row."""
    node = add_node(request.dbsession, request.registry, folder, PORTAL_TYPE, name=name,
                    title=title, owner=request.identity, description=description)
    on_created(request, node, questions, position_given=False)
    grant = request.has_permission(f"{QuestionnaireTemplate.permission_prefix}:add",
                                   folder)
    record_history(request, node, "create", grant=grant, to_state=node.state)
    return node


def store_content(request, template, *, questions=None):
    """After the template's title/description columns may have changed (and maybe
    its questions): write them to the current version, or to a new one when the
    current version is in use. Returns True when anything changed."""
    version = current_version(request.dbsession, template)
    if questions is None:
        questions = version.questions if version is not None else []
    if version is not None and (version.title, version.description,
                                version.questions) == (template.title,
                                                       template.description, questions):
        return False
    save_version(request.dbsession, request.registry, template, title=template.title,
                 description=template.description, questions=questions,
                 user=request.identity)
    return True


def refuse_delete_in_use(request, template):
    lock_template(request.dbsession, template)
    if template_in_use(request.dbsession, template):
        raise errors.conflict(
            N_("Ce modèle est utilisé par des questionnaires envoyés : il ne peut pas être "
            "supprimé (les réponses gardent leurs questions)."))


def delete_template_versions(request, template):
    refuse_delete_in_use(request, template)
    delete_versions(request.dbsession, template)


def edit_template(request, template, *, title, description, questions):
    """The staff form's edit: like PATCH through the generic API (node version,
    modified, history row) with the versioning of store_content."""
    from cabinet.interfaces import IClock
    changed = [name for name, value in (("title", title), ("description", description))
               if getattr(template, name) != value]
    template.title, template.description = title, description
    version = current_version(request.dbsession, template)
    if version is None or version.questions != questions:
        changed.append("questions")
    store_content(request, template, questions=questions)
    if changed:
        template.version = (template.version or 0) + 1
        template.modified = request.registry.getUtility(IClock).now()
        grant = request.has_permission(
            f"{QuestionnaireTemplate.permission_prefix}:edit", template)
        record_history(request, template, "edit", grant=grant,
                       details={"fields": sorted(changed)})
    return changed
