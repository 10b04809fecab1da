"""Versions of a questionnaire template (Q1).

Creating a template writes version 1. Editing the title, description or questions
changes the current version in place while no response uses it; once a response was
sent with it (``QuestionnaireResponse.template_version_id``), an edit adds version
``n + 1`` and moves ``current_version``, so that every response keeps its questions.

Whoever pins a response to the current version, or edits or deletes a template, first
locks the template's node (``lock_template``): an edit in place and a response sent at
the same moment then happen one after the other, never interleaved.
"""
from sqlalchemy import delete, exists, func, select

from cabinet.interfaces import IClock
from cabinet.locks import lock_node
from cabinet.models import QuestionnaireResponse
from cabinet.models.questionnaires import TemplateVersion


def current_version(session, template):
    """The TemplateVersion row new responses of ``template`` are sent with."""
    return session.scalar(select(TemplateVersion).where(
        TemplateVersion.template_id == template.id,
        TemplateVersion.number == template.current_version))


def lock_template(session, template):
    """Lock ``template`` until the end of the transaction (cabinet.locks)."""
    lock_node(session, template.id)


def versions(session, template):
    """Every version of ``template``, oldest first."""
    return list(session.scalars(select(TemplateVersion).where(
        TemplateVersion.template_id == template.id).order_by(TemplateVersion.number)))


def version_in_use(session, version):
    return bool(session.scalar(select(exists().where(
        QuestionnaireResponse.template_version_id == version.id))))


def template_in_use(session, template):
    """Does any response use (or name) this template?"""
    used_versions = select(TemplateVersion.id).where(
        TemplateVersion.template_id == template.id)
    return bool(session.scalar(select(exists().where(
        (QuestionnaireResponse.template_id == template.id)
        | QuestionnaireResponse.template_version_id.in_(used_versions)))))


def write_first_version(session, registry, template, *, title, description, questions,
                        user=None):
    version = TemplateVersion(
        template_id=template.id, number=1, title=title, description=description,
        questions=questions, created=registry.getUtility(IClock).now(),
        created_by_id=user.id if user is not None else None)
    session.add(version)
    template.current_version = 1
    session.flush()
    return version


def save_version(session, registry, template, *, title, description, questions,
                 user=None):
    """Store new content for ``template``: in place if its current version is unused,
    else as a new version that becomes current. Returns (version, created_new)."""
    lock_template(session, template)
    version = current_version(session, template)
    if version is None:
        return write_first_version(session, registry, template, title=title,
                                   description=description, questions=questions,
                                   user=user), True
    if not version_in_use(session, version):
        version.title, version.description = title, description
        version.questions = questions
        session.flush()
        return version, False
    number = (session.scalar(select(func.max(TemplateVersion.number)).where(
        TemplateVersion.template_id == template.id)) or 0) + 1
    new = TemplateVersion(
        template_id=template.id, number=number, title=title, description=description,
        questions=questions, created=registry.getUtility(IClock).now(),
        created_by_id=user.id if user is not None else None)
    session.add(new)
    template.current_version = number
    session.flush()
    return new, True


def delete_versions(session, template):
    session.execute(delete(TemplateVersion).where(
        TemplateVersion.template_id == template.id))
