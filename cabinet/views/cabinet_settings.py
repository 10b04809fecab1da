"""A cabinet's settings (issue #10, K1/K2): its contact card, its practitioners with
their "active" flag, and the module switches (cabinet.modules).

- ``GET <cabinet>/@@settings`` (page) and ``GET <cabinet>/@settings`` (JSON): the
  cabinet's people (``cabinet:view``), with the status (K1): each worker job's last
  success and error (``status``), the mail and SMS gateways' (``gateways``);
- ``POST <cabinet>/@@settings`` (form) and ``PATCH <cabinet>/@settings`` (JSON): its
  administrators (``cabinet:edit``). A PATCH is checked whole before anything
  changes: an unknown module, option or practitioner, a bad email or phone answers
  422 naming each problem, and nothing is changed.
"""
from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from cabinet import errors, modules
from cabinet.contact import check_email, check_phone, check_text
from cabinet.gateway_status import statuses
from cabinet.i18n import _, flash
from cabinet.interfaces import ICabinet, INode
from cabinet.models import WorkerJob
from cabinet.questionnaire_responses import cabinet_practitioners
from cabinet.workflow import record_history
from .base import cabinet_or_404, isoformat, json_body, node_url, only_fields

CONTACT = ("address", "phone", "email")


def settings_json(context, request):
    inactive = modules.inactive_ids(context)
    return {
        "@id": node_url(request, context.path) + "/@settings",
        "title": context.title,
        "contact": {"address": context.address, "phone": context.phone,
                    "email": context.email},
        "practitioners": [{"id": p.name, "title": p.title, "speciality": p.speciality,
                           "active": p.id not in inactive}
                          for p in cabinet_practitioners(request.dbsession, context)],
        "modules": modules.settings(context),
        "status": worker_status(request),
        "worker": worker_summary(request),
        "gateways": gateway_status(request),
        "can_edit": bool(request.has_permission("cabinet:edit", context)),
    }


def worker_status(request):
    """K1: the last run of each job of the worker (its last success and error)."""
    return [{"job": job.name, "last_success": isoformat(job.last_success),
             "last_error": isoformat(job.last_error),
             "error": job.last_error_message or None}
            for job in request.dbsession.scalars(select(WorkerJob).order_by(WorkerJob.name))]


def worker_summary(request):
    """K1: the worker as a whole: its last run, its last success and its last error
    (time and text) over all its jobs; the times are None until it has run."""
    jobs = list(request.dbsession.scalars(select(WorkerJob)))
    runs = [j.last_run for j in jobs if j.last_run]
    successes = [j.last_success for j in jobs if j.last_success]
    failed = max((j for j in jobs if j.last_error), key=lambda j: j.last_error,
                 default=None)
    return {"last_run": isoformat(max(runs, default=None)),
            "last_success": isoformat(max(successes, default=None)),
            "last_error": isoformat(failed.last_error) if failed else None,
            "error": (f"{failed.name}: {failed.last_error_message}" if failed
                      else None)}


def gateway_status(request):
    """K1: the mail and SMS gateways: the time of their last success, the time and
    text of their last error (cabinet.gateway_status), ``ok`` false while the last
    error is more recent than the last success (None: nothing sent yet)."""
    return [{**row, "last_success": isoformat(row["last_success"]),
             "last_error": isoformat(row["last_error"])}
            for row in statuses(request.dbsession)]


def check(request, context, body):
    """{what to apply} or 422 with every problem (nothing applied)."""
    only_fields(body, ("contact", "practitioners", "modules"))
    problems, contact, actives = {}, {}, {}
    raw = body.get("contact") or {}
    if not isinstance(raw, dict):
        problems["contact"] = "Un objet {address, phone, email}."
        raw = {}
    for key, value in raw.items():
        if key == "email":
            value, problem = check_email(value)
        elif key == "phone":
            value, problem = check_phone(value)
        elif key == "address":
            value, problem = check_text(value, 500, _("Adresse"))
        else:
            value, problem = None, "Champ inconnu (address, phone, email)."
        if problem:
            problems[f"contact.{key}"] = problem
        else:
            contact[key] = value
    raw = body.get("practitioners") or {}
    if not isinstance(raw, dict):
        problems["practitioners"] = "Un objet {praticien: {active: true|false}}."
        raw = {}
    known = {p.name: p for p in cabinet_practitioners(request.dbsession, context)}
    for name, value in raw.items():
        if name not in known:
            problems[f"practitioners.{str(name)[:50]}"] = \
                "Ce praticien n'exerce pas dans ce cabinet."
        elif not isinstance(value, dict) or set(value) != {"active"} \
                or not isinstance(value["active"], bool):
            problems[f"practitioners.{name}"] = "{\"active\": true|false}."
        else:
            actives[known[name].id] = value["active"]
    switches = body.get("modules") or {}
    try:
        modules.validate(switches)
    except modules.Invalid as exc:
        problems.update({f"modules.{k}": v for k, v in exc.errors.items()})
    if problems:
        first = next(iter(problems))
        unknown = [k for k in problems if k.startswith("modules.")]
        message = ("Module ou option inconnus : " + ", ".join(k[8:] for k in unknown)
                   + ". Rien n'a été modifié." if unknown
                   else "Vérifiez les champs signalés : rien n'a été modifié.")
        raise errors.unprocessable(message, errors=problems, field=first)
    return contact, actives, switches


def apply(request, context, contact, actives, switches):
    before = settings_json(context, request)
    for key, value in contact.items():
        setattr(context, key, value)
    for practitioner_id, active in actives.items():
        modules.set_active(context, practitioner_id, active)
    modules.update(context, switches)
    after = settings_json(context, request)
    changed = {k: after[k] for k in ("contact", "practitioners", "modules")
               if after[k] != before[k]}
    if changed:
        request.dbsession.flush()
        record_history(request, context, "settings",
                       grant=request.has_permission("cabinet:edit", context),
                       comment="Réglages du cabinet modifiés",
                       details={"changed": sorted(changed)})
    return after


def get_settings(context, request):
    return settings_json(cabinet_or_404(context), request)


def patch_settings(context, request):
    context = cabinet_or_404(context)
    contact, actives, switches = check(request, context, json_body(request))
    return apply(request, context, contact, actives, switches)


# -- the page -------------------------------------------------------------------------------

def page(context, request, problems=None, status=200):
    request.response.status_int = status
    return {"context": context, "data": settings_json(context, request),
            "titles": modules.TITLES, "option_titles": modules.OPTION_TITLES,
            "errors": problems or {}, "url": node_url(request, context.path)}


def form_body(context, request):
    """The form's fields as a PATCH body: unchecked boxes are false."""
    post = request.POST
    body = {"contact": {k: post.get(k, "") for k in CONTACT}, "modules": {},
            "practitioners": {}}
    for name, options in modules.MODULES.items():
        body["modules"][name] = {"enabled": f"{name}.enabled" in post,
                                 **{o: f"{name}.{o}" in post for o in options}}
    for p in cabinet_practitioners(request.dbsession, context):
        body["practitioners"][p.name] = {"active": f"practitioner.{p.name}" in post}
    return body


def submit(context, request):
    try:
        values = check(request, context, form_body(context, request))
    except errors.exc.HTTPUnprocessableEntity as exc:
        return page(context, request, exc.extra.get("errors"), status=422)
    apply(request, context, *values)
    flash(request, _("Réglages du cabinet enregistrés."))
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@settings")


def includeme(config):
    add = config.add_view
    # on any resource inside the cabinet, as its other settings (@document-settings)
    add(get_settings, context=INode, name="@settings", request_method="GET",
        renderer="json", permission="cabinet:view")
    add(patch_settings, context=INode, name="@settings", request_method="PATCH",
        renderer="json", permission="cabinet:edit")
    add(page, context=ICabinet, name="settings", request_method="GET",
        renderer="cabinet_settings.jinja2", permission="cabinet:view")
    add(submit, context=ICabinet, name="settings", request_method="POST",
        renderer="cabinet_settings.jinja2", permission="cabinet:edit")
