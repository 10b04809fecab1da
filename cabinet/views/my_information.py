"""My information (issue #9, P4): the pages and the JSON API (cabinet.my_information).

Patients and guardians:
- ``GET /@@my-information`` (page), ``GET /@my-information`` (JSON): the records they
  manage, their current values, what they may change, their pending proposals;
- ``POST <record>/@@my-information`` (form), ``POST <record>/@my-information``
  (JSON ``{"values": {...}}`` -> 201): a proposal. The record comes through
  traversal and must be one of theirs (403 otherwise, nothing stored).

The cabinet (``patient:edit``):
- ``GET <record>/@information-proposals`` (JSON), ``<record>/@@information-proposals``
  (page): the proposals, newest first;
- ``POST <record>/@information-proposals/<id>`` ``{"decision": "accept"|"reject",
  "fields": [...]}`` (JSON), ``POST <record>/@@information-proposals`` (form).
"""
from pyramid.events import BeforeRender
from pyramid.httpexceptions import HTTPSeeOther

from cabinet import errors
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import INode, IPatient, ISite
from cabinet.my_information import (
    decide, editable_fields, field_title, proposal_of, proposals_of, propose, relation_of,
)
from cabinet.portal import open_records
from .base import isoformat, json_body, node_url, only_fields


def proposal_json(request, patient, proposal, title=field_title):
    """A proposal; ``title(field)`` names its fields (in French by default, the
    language of JSON answers; the pages pass page_titles)."""
    return {"@id": f"{node_url(request, patient.path)}/@information-proposals/"
                   f"{proposal.id}",
            "id": proposal.id, "state": proposal.state,
            "created": isoformat(proposal.created), "decided": isoformat(proposal.decided),
            "values": proposal.values, "before": proposal.before,
            "current": {k: getattr(patient, k) or "" for k in proposal.values},
            "accepted_fields": proposal.accepted_fields,
            "titles": {k: title(k) for k in proposal.values}}


def _records(request):
    found = open_records(request)
    if request.identity is None or not found:
        raise errors.forbidden(N_("Réservé aux patients et à leurs représentants."))
    return found


def page_titles(request):
    """The fields' titles of a page: in the reader's language."""
    return lambda name: field_title(name, request)


def my_information_data(request, title=field_title):
    items = []
    for record in _records(request):
        patient = record.patient
        fields = editable_fields(relation_of(request, record))
        items.append({
            "@id": node_url(request, patient.path), "title": patient.title,
            "relation": relation_of(request, record) or "guardian",
            "values": {f: getattr(patient, f) or "" for f in fields},
            "titles": {f: title(f) for f in fields},
            "pending": [proposal_json(request, patient, p, title) for p in
                        proposals_of(request.dbsession, patient, pending_only=True)]})
    return {"@id": request.application_url + "/@my-information", "items": items}


def my_information_json(context, request):
    return my_information_data(request)


def my_information_page(context, request, problems=None, values=None, target=None,
                        status=200):
    request.response.status_int = status
    return {"data": my_information_data(request, page_titles(request)),
            "errors": problems or {}, "values": values or {}, "target": target}


def _record_for(request, patient):
    """The user's Record of ``patient`` (403 if it is not theirs)."""
    for record in _records(request):
        if record.patient.id == patient.id:
            return record
    raise errors.forbidden(N_("Ce dossier ne fait pas partie de vos patients."))


def propose_json(context, request):
    body = json_body(request)
    only_fields(body, ("values",))
    proposal = propose(request, _record_for(request, context), body.get("values"))
    request.response.status_int = 201
    return proposal_json(request, context, proposal)


def propose_form(context, request):
    record = _record_for(request, context)
    fields = editable_fields(relation_of(request, record))
    values = {f: request.POST.get(f, "") for f in fields if f in request.POST}
    try:
        propose(request, record, values)
    except errors.exc.HTTPUnprocessableEntity as exc:
        problems = exc.extra.get("errors") or {"_": exc.detail}
        return my_information_page(None, request, problems, values,
                                   node_url(request, context.path), status=422)
    flash(request, _("Vos modifications sont transmises au cabinet, qui les validera."))
    return HTTPSeeOther(location=request.application_url + "/@@my-information")


# -- the cabinet's side ------------------------------------------------------------------

def _patient(context):
    from cabinet.document_sharing import patient_of
    patient = patient_of(context)
    if patient is None:
        raise errors.not_found("This resource is not inside a patient record.")
    return patient


def proposals_json(context, request):
    context = _patient(context)
    if request.subpath:
        raise errors.not_found("GET <record>/@information-proposals.")
    return {"@id": node_url(request, context.path) + "/@information-proposals",
            "items": [proposal_json(request, context, p)
                      for p in proposals_of(request.dbsession, context)]}


def decide_json(context, request):
    if len(request.subpath) != 1:
        raise errors.not_found("POST <record>/@information-proposals/<id>.")
    context = _patient(context)
    body = json_body(request)
    only_fields(body, ("decision", "fields"))
    proposal = proposal_of(request.dbsession, context, request.subpath[0])
    decide(request, context, proposal, body.get("decision"), body.get("fields"))
    return proposal_json(request, context, proposal)


def proposals_page(context, request):
    title = page_titles(request)
    return {"context": context, "url": node_url(request, context.path),
            "items": [proposal_json(request, context, p, title)
                      for p in proposals_of(request.dbsession, context)]}


def decide_form(context, request):
    proposal = proposal_of(request.dbsession, context, request.POST.get("proposal", ""))
    decision = request.POST.get("decision")
    fields = [f for f in request.POST.getall("field") if f in proposal.values] \
        if decision == "accept" else None
    decide(request, context, proposal, decision, fields if fields else
           (None if decision != "accept" else []))
    flash(request, _("Proposition acceptée.") if decision == "accept"
          else _("Proposition refusée."))
    return HTTPSeeOther(location=node_url(request, context.path)
                        + "/@@information-proposals")


def add_pending_count(event):
    """BeforeRender: a patient record's page tells its staff about pending
    proposals ("changes proposed by the patient")."""
    request = event.get("request")
    context = event.get("context")
    if request is None or not IPatient.providedBy(context) or \
            event.get("renderer_name") != "node.jinja2" or \
            not request.has_permission("patient:edit", context):
        return
    event["information_proposals"] = len(proposals_of(request.dbsession, context,
                                                      pending_only=True))


def includeme(config):
    add = config.add_view
    add(my_information_json, context=ISite, name="@my-information", request_method="GET",
        renderer="json", permission="site:view")
    add(my_information_page, context=ISite, name="my-information", request_method="GET",
        renderer="my_information.jinja2", permission="site:view")
    add(propose_json, context=IPatient, name="@my-information", request_method="POST",
        renderer="json", permission="patient:view")
    add(propose_form, context=IPatient, name="my-information", request_method="POST",
        renderer="my_information.jinja2", permission="patient:view")
    add(proposals_json, context=INode, name="@information-proposals",
        request_method="GET", renderer="json", permission="patient:edit")
    add(decide_json, context=INode, name="@information-proposals",
        request_method="POST", renderer="json", permission="patient:edit")
    add(proposals_page, context=IPatient, name="information-proposals",
        request_method="GET", renderer="information_proposals.jinja2",
        permission="patient:edit")
    add(decide_form, context=IPatient, name="information-proposals",
        request_method="POST", permission="patient:edit")
    config.add_subscriber(add_pending_count, BeforeRender)
