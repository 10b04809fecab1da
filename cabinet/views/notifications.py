"""A person's appointment reminders (issue #9, P7): the page ``/@@my-notifications``
and the JSON ``/@my-notifications`` (GET; POST a rule and/or the ``reminders``
switch; DELETE ``/@my-notifications/<id>``), for patients and guardians only. A
rule named by a client is looked up among the user's own rules: nobody reaches
another person's. Bad values: 422 with a message per field, nothing changed."""
from pyramid.httpexceptions import HTTPNoContent, HTTPSeeOther

from cabinet import errors
from cabinet.appointments import Invalid, my_records
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import IClock, ISite
from cabinet.reminders import (
    CHANNELS, DEFAULT, MAX_DAYS, MIN_DAYS, add_rule, check_rule, default_channel,
    reminders_on, rule_of, rules_of, set_reminders,
)
from cabinet.sms import mask_phone
from .base import json_body, only_fields

PAGE = "/@@my-notifications"
FIELDS = ("days_before", "time", "channel", "reminders")


def _person(request):
    """The user, when they are a patient or a guardian (else 403)."""
    if request.identity is None or not my_records(request):
        raise errors.forbidden(N_("Les rappels de rendez-vous sont réservés aux patients "
                               "et à leurs représentants."))
    return request.identity


def rule_json(rule):
    return {"id": rule.id, "days_before": rule.days_before, "time": rule.at_time,
            "channel": rule.channel, "default": False}


def state(request, user):
    session = request.dbsession
    rules = [rule_json(r) for r in rules_of(session, user.id)]
    channel = default_channel(user)
    if not rules and channel:
        rules = [{"id": None, "days_before": DEFAULT[0], "time": DEFAULT[1],
                  "channel": channel, "default": True}]
    return {"@id": request.application_url + "/@my-notifications",
            "reminders": reminders_on(session, user.id), "rules": rules,
            "phone": mask_phone(user.phone) if user.phone else None,
            "email": user.email or None,
            "days_before": {"minimum": MIN_DAYS, "maximum": MAX_DAYS}}


def _now(request):
    return request.registry.getUtility(IClock).now()


def _switch(value):
    if isinstance(value, bool):
        return value
    raise Invalid({"reminders": "true ou false."})


# -- JSON -----------------------------------------------------------------------------------

def notifications_data(context, request):
    return state(request, _person(request))


def notifications_post(context, request):
    """Add a rule (days_before, time, channel) and/or switch reminders on or off
    (reminders); both checked before anything changes."""
    user = _person(request)
    body = json_body(request)
    only_fields(body, FIELDS)
    wants_rule = any(k in body for k in ("days_before", "time", "channel"))
    if not wants_rule and "reminders" not in body:
        raise errors.unprocessable(N_("Envoyez une règle (days_before, time, channel) ou "
                                   "reminders."), errors={"days_before": N_("Requis.")})
    try:
        switch = _switch(body["reminders"]) if "reminders" in body else None
        values = check_rule(request.dbsession, user, body) if wants_rule else None
    except Invalid as exc:
        raise errors.unprocessable(N_("Certaines valeurs sont invalides."),
                                   errors=exc.errors)
    if switch is not None:
        set_reminders(request.dbsession, user.id, switch, _now(request))
    if values is not None:
        add_rule(request, user, values)
        request.response.status_int = 201
    return state(request, user)


def notifications_delete(context, request):
    user = _person(request)
    if len(request.subpath) != 1:
        raise errors.not_found("DELETE /@my-notifications/<id>.")
    rule = rule_of(request.dbsession, user, request.subpath[0])
    if rule is None:
        raise errors.not_found(N_("Vous n'avez pas ce rappel."))
    request.dbsession.delete(rule)
    request.dbsession.flush()
    return HTTPNoContent()


# -- the page ------------------------------------------------------------------------------------

def page(context, request, problems=None, values=None, status=200):
    user = _person(request)
    request.response.status_int = status
    return {"data": state(request, user), "channels": CHANNELS,
            "errors": problems or {}, "values": values or {}}


def page_form(context, request):
    user = _person(request)
    post = request.POST
    action = post.get("action", "add")
    session = request.dbsession
    if action == "delete":
        rule = rule_of(session, user, post.get("rule", ""))
        if rule is None:
            raise errors.not_found(N_("Vous n'avez pas ce rappel."))
        session.delete(rule)
        flash(request, _("Rappel supprimé."))
    elif action in ("on", "off"):
        set_reminders(session, user.id, action == "on", _now(request))
        flash(request, _("Rappels activés.") if action == "on"
              else _("Vous ne recevrez plus de rappels de rendez-vous."))
    else:
        data = {k: post.get(k, "").strip() for k in ("days_before", "time", "channel")}
        try:
            values = check_rule(session, user, data)
        except Invalid as exc:
            return page(context, request, exc.errors, data, status=422)
        add_rule(request, user, values)
        flash(request, _("Rappel ajouté."))
    session.flush()
    return HTTPSeeOther(location=request.application_url + PAGE)


def includeme(config):
    add = config.add_view
    add(page, context=ISite, name="my-notifications", request_method="GET",
        renderer="my_notifications.jinja2", permission="site:view")
    add(page_form, context=ISite, name="my-notifications", request_method="POST",
        renderer="my_notifications.jinja2", permission="site:view")
    add(notifications_data, context=ISite, name="@my-notifications", request_method="GET",
        renderer="json", permission="site:view")
    add(notifications_post, context=ISite, name="@my-notifications",
        request_method="POST", renderer="json", permission="site:view")
    add(notifications_delete, context=ISite, name="@my-notifications",
        request_method="DELETE", renderer="json", permission="site:view")
