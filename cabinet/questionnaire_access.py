"""Guardians and the minors' questionnaires (Q4): the computed role
``questionnaire_guardian`` on the record of each minor whose parent 1, parent 2 or
financial guarantor the signed-in user is, where the minor's cabinet opens minors'
access for questionnaires (``Cabinet.minors_access_questionnaires``, unless the
minor's record overrides it: ``Patient.minors_access_questionnaires`` "on" / "off").

It mirrors the ``guardian`` role of cabinet.patient_login, which follows minors'
access for *documents*: the two switches are independent, so a cabinet may let
parents fill their children's questionnaires without showing them the documents, or
the other way round. Computed on every request from the records as they are now (a
child turning 18, the switch turned off: no access at once); workflows/
questionnaire.yaml grants the role, cabinet.search lists with it like any role.
"""
from sqlalchemy import select

from cabinet.identity import identity_fact
from cabinet.interfaces import IClock
from cabinet.models import Cabinet
from cabinet.patient_login import cabinet_path, guarded_minors
from cabinet.security import ComputedRole

ROLE = "questionnaire_guardian"


def questionnaire_access(session, patients):
    """{patient id: bool}: whether guardians fill each record's questionnaires (the
    record's override "on" / "off", else its cabinet's switch), as
    cabinet.patient_login.minors_access for documents. One query for the cabinets."""
    def override(patient):
        return patient.minors_access_questionnaires in ("on", "off")
    paths = {cabinet_path(p) for p in patients if not override(p)}
    switches = dict(session.execute(
        select(Cabinet.path, Cabinet.minors_access_questionnaires)
        .where(Cabinet.path.in_(paths))).all()) if paths else {}
    return {p.id: (p.minors_access_questionnaires == "on") if override(p)
            else bool(switches.get(cabinet_path(p))) for p in patients}


def questionnaire_minors(session, user_id, today):
    """[(patient, relation)]: the minors whose questionnaires this user fills."""
    found = guarded_minors(session, user_id, today, with_access=False)
    if not found:
        return []
    access = questionnaire_access(session, [p for p, _r in found])
    return [(p, r) for p, r in found if access[p.id]]


def questionnaire_guardian_roles(request):
    """Computed role source (cabinet.security.ComputedRole)."""
    user = request.identity
    if user is None or not identity_fact(request, "directory_person"):
        return []
    today = request.registry.getUtility(IClock).today()
    return [ComputedRole(path=patient.path, role=ROLE, source=patient,
                         acting_for={"type": "guardian", "relation": relation,
                                     "patient": patient.title})
            for patient, relation in questionnaire_minors(request.dbsession, user.id,
                                                          today)]


def includeme(config):
    config.include("cabinet.patient_login")
    sources = config.registry.setdefault("computed_role_sources", [])
    if questionnaire_guardian_roles not in sources:
        sources.append(questionnaire_guardian_roles)
