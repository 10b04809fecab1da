"""The patient's and guardian's appointments (issue #9, P1), on top of "Mes
rendez-vous" (cabinet/views/appointments.py): "ajouter à mon agenda" (GET
``<appointment>/@ics``), "aller au cabinet" (a map link on the cabinet's address),
and the private calendar feed: created and revoked on the page (POST
``/@@calendar-feed``, ``/@@calendar-feed-revoke``) or in JSON (``/@calendar-feed``),
read by a phone calendar at ``/@calendar/<token>.ics``.

The feed's URL is read without a session: its route's factory finds the feed by the
token (404 for an unknown or revoked one), and the feed resource's ACL grants
``calendar:read`` to Everyone, so the token is the credential, as the URL of an
invitation is; the feed says nothing of anyone's health (cabinet.calendars)."""
from pyramid.authorization import Allow, Everyone
from pyramid.httpexceptions import HTTPNoContent, HTTPSeeOther
from pyramid.response import Response

from cabinet import errors
from cabinet.appointments import my_records
from cabinet.calendars import (
    appointment_ics, cabinet_path_of, cabinets_by_path, create_feed, feed_by_token,
    feed_ics, feed_of, feed_url, location, map_url, revoke_feed,
)
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import IAppointment, ISite
from cabinet.questionnaire_responses import cabinet_of
from .base import isoformat

CALENDAR = "text/calendar"
PAGE = "/@@my-appointments"


# -- "Mes rendez-vous": what the page adds --------------------------------------------

def page_extras(request, rows):
    """For each row (by id): the .ics link and the map link of its cabinet; and the
    state of the user's feed."""
    cabinets = cabinets_by_path(request.dbsession,
                                [cabinet_path_of(r.patient_path) for r in rows])
    links = {}
    for row in rows:
        cabinet = cabinets.get(cabinet_path_of(row.patient_path))
        place = location(cabinet) if cabinet else ""
        links[row.id] = {"ics": f"{request.application_url}{row.path}@ics",
                         "map": map_url(place) if place else None, "address": place}
    user = request.identity
    feed = feed_of(request.dbsession, user.id) if user is not None else None
    return {"links": links, "feed": feed, "feed_url": None,
            "can_subscribe": bool(my_records(request))}


def _subscriber(request):
    """The user, when they are a patient or a guardian (else 403)."""
    if request.identity is None or not my_records(request):
        raise errors.forbidden(N_("Le calendrier privé est réservé aux patients et à "
                               "leurs représentants."))
    return request.identity


def create_feed_form(context, request):
    """POST /@@calendar-feed: a new secret URL, shown once on the page (only its
    hash is kept); it replaces the former one."""
    from cabinet.views.appointments import my_appointments_page
    token, _feed = create_feed(request, _subscriber(request))
    data = my_appointments_page(request)
    data["feed_url"] = feed_url(request, token)
    return data


def revoke_feed_form(context, request):
    if revoke_feed(request, _subscriber(request)):
        flash(request, _("Votre calendrier privé est supprimé : son adresse ne "
                          "fonctionne plus."))
    return HTTPSeeOther(location=request.application_url + PAGE)


# -- JSON ----------------------------------------------------------------------------------

def feed_json(request, feed, token=None):
    return {"@id": request.application_url + "/@calendar-feed",
            "active": feed is not None,
            "created": isoformat(feed.created) if feed is not None else None,
            "url": feed_url(request, token) if token else None}


def feed_status(context, request):
    user = _subscriber(request)
    return feed_json(request, feed_of(request.dbsession, user.id))


def feed_create(context, request):
    token, feed = create_feed(request, _subscriber(request))
    request.response.status_int = 201
    return feed_json(request, feed, token)


def feed_delete(context, request):
    if not revoke_feed(request, _subscriber(request)):
        raise errors.not_found(N_("Vous n'avez pas de calendrier privé."))
    return HTTPNoContent()


# -- iCalendar -------------------------------------------------------------------------------

def appointment_ics_view(context, request):
    """GET <appointment>/@ics: the appointment as a calendar file to download."""
    if context.start is None or context.end is None:
        raise errors.not_found(N_("Ce rendez-vous n'a pas d'horaire."))
    cabinet = cabinet_of(context)
    body = appointment_ics(request, context,
                           (cabinet.title, cabinet.address) if cabinet is not None
                           else ("Cabinet", ""))
    return Response(body=body, content_type=CALENDAR, charset="utf-8",
                    content_disposition=f'attachment; filename="rendez-vous-'
                                        f'{context.start:%Y-%m-%d-%H%M}.ics"',
                    cache_control="private, no-store")


class FeedContext:
    """The context of ``/@calendar/<token>.ics``: the feed the token names. Its ACL
    lets anyone holding the URL read it (the token is the credential)."""
    __acl__ = [(Allow, Everyone, "calendar:read")]
    __parent__ = None
    __name__ = "@calendar"

    def __init__(self, request):
        feed = feed_by_token(request.dbsession, request.matchdict.get("token"))
        if feed is None:
            raise errors.not_found(N_("Ce calendrier n'existe pas ou a été supprimé."))
        self.feed = feed


def feed_view(context, request):
    response = Response(body=feed_ics(request, context.feed), content_type=CALENDAR,
                        charset="utf-8", cache_control="private, no-store")
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# -- /@openapi.json --------------------------------------------------------------------------

def openapi_parts(_op, _json, _errors, PATH):
    calendar = {"description": "An iCalendar file (RFC 5545), time zone "
                               "Europe/Luxembourg; no health data",
                "content": {CALENDAR: {"schema": {"type": "string"}}}}
    token = {"name": "token", "in": "path", "required": True,
             "schema": {"type": "string"}, "description": "the feed's secret token"}
    paths = {
        "/{path}/@ics": {"get": _op(
            "An appointment as an .ics file to add to one's calendar (its time, the "
            "cabinet's name and address)",
            {"200": calendar, **_errors(401, 403, 404)}, params=[PATH])},
        "/@calendar-feed": {
            "get": _op("Whether the user (a patient or guardian) has a private "
                       "calendar feed",
                       {"200": _json("CalendarFeed"), **_errors(401, 403)}),
            "post": _op("Create the user's private calendar feed (a new secret URL, "
                        "given only now; it replaces the former one)",
                        {"201": _json("CalendarFeed"), **_errors(401, 403)}),
            "delete": _op("Revoke the user's calendar feed: its URL answers 404",
                          {"204": {"description": "Revoked"},
                           **_errors(401, 403, 404)})},
        "/@calendar/{token}.ics": {"get": _op(
            "A private calendar feed, for a phone calendar to subscribe to: the coming "
            "appointments and those of the last 90 days of the patients the feed's "
            "owner manages, without health data. No login: the token is the key",
            {"200": calendar, **_errors(404)}, params=[token])},
    }
    schemas = {"CalendarFeed": {"type": "object", "properties": {
        "@id": {"type": "string"}, "active": {"type": "boolean"},
        "created": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"],
                "description": "the feed's URL, only in the answer that creates it"}}}}
    return paths, schemas


def includeme(config):
    add = config.add_view
    add(appointment_ics_view, context=IAppointment, name="@ics", request_method="GET",
        permission="appointment:view")
    add(create_feed_form, context=ISite, name="calendar-feed", request_method="POST",
        renderer="my_appointments.jinja2", permission="site:view")
    add(revoke_feed_form, context=ISite, name="calendar-feed-revoke",
        request_method="POST", permission="site:view")
    add(feed_status, context=ISite, name="@calendar-feed", request_method="GET",
        renderer="json", permission="site:view")
    add(feed_create, context=ISite, name="@calendar-feed", request_method="POST",
        renderer="json", permission="site:view")
    add(feed_delete, context=ISite, name="@calendar-feed", request_method="DELETE",
        renderer="json", permission="site:view")
    config.add_route("calendar_feed", "/@calendar/{token}.ics", factory=FeedContext)
    add(feed_view, route_name="calendar_feed", request_method="GET",
        permission="calendar:read")
