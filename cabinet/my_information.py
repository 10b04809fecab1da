"""My information (issue #9, P4): patients and guardians propose changes to their
records; the cabinet accepts them (all or field by field) or rejects them.

A proposal never changes the record by itself (cabinet.models.InformationProposal).
On a patient's own record the patient proposes its name, email, phone and address;
a guardian proposes the minor's, and their own name and phone as the record's parent
1, parent 2 or guarantor. Accepting writes the values and one history row on the
record (``information-accepted``, with the fields, before and after); rejecting
writes ``information-rejected``.
"""
from sqlalchemy import select

from cabinet import errors
from cabinet.contact import check_email, check_phone, check_text
from cabinet.i18n import C_, N_, _, text_for
from cabinet.interfaces import IClock
from cabinet.models import InformationProposal
from cabinet.patient_login import RELATION_TITLES as RELATIONS_OF_ALL, guarded_minors
from cabinet.workflow import record_history

PATIENT_FIELDS = ("first_name", "last_name", "email", "phone", "address")
GUARDIAN_FIELDS = ("first_name", "last_name", "phone")
#: the fields' and the guardians' titles (msgids: JSON gives them in French, the
#: pages in the reader's language)
TITLES = {"first_name": N_("Prénom"), "last_name": C_("last name", "Nom"), "email": N_("Courriel"),
          "phone": N_("Téléphone"), "address": N_("Adresse")}
#: the guardians' relations
RELATION_TITLES = {relation: title for relation, title in RELATIONS_OF_ALL.items()
                   if relation != "patient"}
#: a guardian's own field on the record: "Prénom (parent 1)"
OF_RELATION = N_("${field} (${relation})")
NOTHING = N_("Aucune modification : les valeurs proposées sont celles du dossier.")


def relation_of(request, record):
    """'patient', or the guardian's relation on the record (parent1, parent2,
    guarantor), or None when unknown (a guardian by a role granted by hand)."""
    if not record.guardian:
        return "patient"
    today = request.registry.getUtility(IClock).today()
    for patient, relation in guarded_minors(request.dbsession, request.identity.id,
                                            today, with_access=False):
        if patient.id == record.patient.id:
            return relation
    return None


def editable_fields(relation):
    fields = list(PATIENT_FIELDS)
    if relation in RELATION_TITLES:
        fields += [f"{relation}_{f}" for f in GUARDIAN_FIELDS]
    return fields


def field_message(name):
    """The title of field ``name`` as a msgid (with its mapping)."""
    for relation, title in RELATION_TITLES.items():
        if name.startswith(relation + "_"):
            return _(OF_RELATION, mapping={"field": _(TITLES[name[len(relation) + 1:]]),
                                           "relation": _(title)})
    return _(TITLES[name]) if name in TITLES else name


def field_title(name, request=None):
    """The title of field ``name`` in the language of ``request``; in French without
    one (the JSON answers, the history)."""
    message = field_message(name)
    return text_for(request, message)


def check_values(data, allowed):
    """(values, problems): each value checked by its kind; unknown fields refused."""
    values, problems = {}, {}
    if not isinstance(data, dict):
        return {}, {"values": "Un objet {champ: valeur}."}
    for name, raw in data.items():
        if name not in allowed:
            problems[str(name)[:50]] = "Champ inconnu ou non modifiable."
            continue
        if name.endswith("email"):
            value, problem = check_email(raw)
        elif name.endswith("phone"):
            value, problem = check_phone(raw)
        elif name.endswith("address"):
            value, problem = check_text(raw, 500, field_message(name))
        else:
            value, problem = check_text(raw, 200, field_message(name), required=True)
        if problem:
            problems[name] = problem
        else:
            values[name] = value
    return values, problems


def propose(request, record, data):
    """A pending proposal for ``record`` (a cabinet.portal.Record), or 422."""
    allowed = editable_fields(relation_of(request, record))
    values, problems = check_values(data, allowed)
    if problems:
        raise errors.unprocessable(N_("Vérifiez les champs signalés : rien n'a été "
                                   "enregistré."), errors=problems,
                                   field=next(iter(problems)))
    patient = record.patient
    changed = {k: v for k, v in values.items() if (getattr(patient, k) or "") != v}
    if not changed:
        raise errors.unprocessable(NOTHING)
    proposal = InformationProposal(
        patient_id=patient.id, proposed_by=request.identity.id,
        created=request.registry.getUtility(IClock).now(), values=changed,
        before={k: getattr(patient, k) or "" for k in changed}, state="pending")
    request.dbsession.add(proposal)
    request.dbsession.flush()
    return proposal


def proposals_of(session, patient, pending_only=False):
    query = select(InformationProposal).where(InformationProposal.patient_id == patient.id)
    if pending_only:
        query = query.where(InformationProposal.state == "pending")
    return list(session.scalars(query.order_by(InformationProposal.created.desc(),
                                               InformationProposal.id.desc()).limit(100)))


def proposal_of(session, patient, raw_id):
    """The proposal ``raw_id`` of ``patient`` (another record's: 404)."""
    if not isinstance(raw_id, (str, int)) or not str(raw_id).isdigit() \
            or len(str(raw_id)) > 12:
        raise errors.not_found(N_("Cette proposition n'existe pas."))
    proposal = session.get(InformationProposal, int(raw_id))
    if proposal is None or proposal.patient_id != patient.id:
        raise errors.not_found(N_("Cette proposition n'existe pas."))
    return proposal


def decide(request, patient, proposal, decision, fields=None):
    """Accept (``fields``: all when None) or reject a pending proposal."""
    if decision not in ("accept", "reject"):
        raise errors.unprocessable("'decision' : accept ou reject.", field="decision")
    if proposal.state != "pending":
        raise errors.conflict(N_("Cette proposition a déjà été traitée."),
                              review_state=proposal.state)
    now = request.registry.getUtility(IClock).now()
    grant = request.has_permission("patient:edit", patient)
    if decision == "reject":
        proposal.state, proposal.decided, proposal.decided_by = \
            "rejected", now, request.identity.id
        record_history(request, patient, "information-rejected", grant=grant,
                       comment="Modifications proposées par le patient refusées",
                       details={"proposal": proposal.id,
                                "fields": sorted(proposal.values)})
        return proposal
    if fields is None:
        fields = sorted(proposal.values)
    if not isinstance(fields, list) or not fields or \
            any(not isinstance(f, str) or f not in proposal.values for f in fields):
        raise errors.unprocessable("'fields' : des champs de la proposition "
                                   f"({', '.join(sorted(proposal.values))}).",
                                   field="fields")
    before = {f: getattr(patient, f) or "" for f in fields}
    for name in fields:
        setattr(patient, name, proposal.values[name])
    if {"first_name", "last_name"} & set(fields):
        patient.title = f"{patient.first_name} {patient.last_name}".strip() or patient.title
    proposal.state = "accepted" if set(fields) == set(proposal.values) else "partial"
    proposal.decided, proposal.decided_by = now, request.identity.id
    proposal.accepted_fields = sorted(fields)
    record_history(request, patient, "information-accepted", grant=grant,
                   comment="Modifications proposées par le patient acceptées : "
                           + ", ".join(field_title(f) for f in sorted(fields)),
                   details={"proposal": proposal.id, "fields": sorted(fields),
                            "before": before,
                            "after": {f: proposal.values[f] for f in fields}})
    request.dbsession.flush()
    return proposal
