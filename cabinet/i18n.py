"""Languages of the pages (issue #10, A4): French (default), German and English.

The ``cabinet`` message catalogs live in cabinet/locale/<lang>/LC_MESSAGES/cabinet.po
(their msgids are the French texts of the templates) and are compiled to .mo files by
``make catalogs`` (babel.cfg says what is extracted). The language of a request is, in
this order: an explicit ``_LOCALE_`` query parameter, the language the signed-in user
chose (kept in their profile, ``users.language``), the language chosen with the
switcher of the page header (the ``cabinet_lang`` cookie), the best of the browser's
Accept-Language among the three, else French.

The switcher is a link for visitors (``GET @@language``: the cookie only, a GET never
writes to the database) and, for a signed-in user, a form (``POST @@language``, with
the CSRF token) that also keeps the choice in their profile; in JSON, ``GET /@language``
says the language and ``PATCH /@language`` changes the user's. A choice made before
logging in is kept in the profile at login when the profile has none yet.
"""
from urllib.parse import urlencode

from pyramid.events import BeforeRender
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED

from cabinet import errors
from cabinet.interfaces import ISite

#: the languages of the catalogs, the first one the default
LANGUAGES = ("fr", "de", "en")
#: the name each language has in itself (the switcher's labels)
LANGUAGE_NAMES = {"fr": "Français", "de": "Deutsch", "en": "English"}
COOKIE = "cabinet_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def N_(message):
    """Marks a French text shown through the templates' ``_()`` (a title kept in a
    Python constant) for extraction into the catalogs; returns it unchanged."""
    return message


def default_language(request):
    default = request.registry.settings.get("pyramid.default_locale_name", LANGUAGES[0])
    return default if default in LANGUAGES else LANGUAGES[0]


def _known_user(request):
    """The signed-in user when the request has already looked them up (every page
    that checks a permission has), else None: choosing the language never costs a
    query of its own, nor fails when the database does not answer (the 503 page)."""
    return request.__dict__.get("authenticated_user")


def negotiate_locale(request):
    """The locale negotiator: explicit choice, the user's, the switcher's, then the
    browser, then the default."""
    chosen = request.GET.get("_LOCALE_")
    if chosen in LANGUAGES:
        return chosen
    user = _known_user(request)
    if user is not None and user.language in LANGUAGES:
        return user.language
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_language.lookup(LANGUAGES, default=default_language(request))


def _set_cookie(request, response, lang):
    response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, httponly=True,
                        samesite="Lax", path=request.script_name or "/",
                        secure=request.scheme == "https")


def language_view(request):
    """``GET @@language?lang=de&came_from=/path``: keep the choice in a cookie (a mere
    preference, no session, nothing written) and go back to the page, a local path
    only."""
    from cabinet.views.auth import safe_came_from
    response = HTTPSeeOther(location=safe_came_from(request, request.GET.get("came_from")))
    lang = request.GET.get("lang")
    if lang in LANGUAGES:
        _set_cookie(request, response, lang)
    return response


def choose_language_form(request):
    """``POST @@language`` (lang, came_from; CSRF checked): the switcher of a signed-in
    user: the choice goes into their profile and the cookie."""
    from cabinet.views.auth import safe_came_from
    lang = request.POST.get("lang")
    if lang not in LANGUAGES:
        raise errors.unprocessable("Langue inconnue : choisissez fr, de ou en.",
                                   errors={"lang": "fr, de ou en"})
    response = HTTPSeeOther(location=safe_came_from(request, request.POST.get("came_from")))
    request.identity.language = lang
    _set_cookie(request, response, lang)
    return response


def keep_choice_at_login(request, user):
    """At login: a language chosen before (the cookie) goes into a profile that has
    none yet."""
    chosen = request.cookies.get(COOKIE)
    if user.language is None and chosen in LANGUAGES:
        user.language = chosen


# -- JSON: /@language -------------------------------------------------------------------

def language_json(request):
    user = request.identity
    return {"@id": request.application_url + "/@language",
            "language": request.locale_name,
            "preference": user.language if user is not None else None,
            "available": [{"code": code, "name": LANGUAGE_NAMES[code]}
                          for code in LANGUAGES]}


def get_language(request):
    return language_json(request)


def patch_language(request):
    """``PATCH /@language {"language": "de"}``: the signed-in user's choice (null
    forgets it: the browser's language applies again)."""
    from cabinet.views.base import json_body
    body = json_body(request)
    unknown = sorted(set(body) - {"language"})
    if unknown:
        raise errors.unprocessable("Seule la langue peut être changée ici.",
                                   errors={name: "Champ inconnu." for name in unknown})
    if "language" not in body:
        raise errors.unprocessable("Indiquez la langue.", errors={"language": "fr, de, en"})
    lang = body["language"]
    if lang is not None and lang not in LANGUAGES:
        raise errors.unprocessable("Langue inconnue : choisissez fr, de ou en.",
                                   errors={"language": "fr, de, en ou null"})
    request.identity.language = lang
    # the answer speaks the new language
    request.__dict__.pop("locale_name", None)
    request.__dict__.pop("localizer", None)
    return language_json(request)


def openapi_parts(_op, _json, _errors, PATH):
    paths = {"/@language": {
        "get": _op("The language of the answers, the user's choice and the languages "
                   "available", {"200": _json("Language")}, security=False),
        "patch": _op("Choose the signed-in user's language (kept in their profile); "
                     "null forgets the choice",
                     {"200": _json("Language"), **_errors(400, 401, 422)},
                     body="LanguageChoice")}}
    schemas = {
        "Language": {"type": "object", "properties": {
            "@id": {"type": "string"}, "language": {"type": "string", "enum": list(LANGUAGES)},
            "preference": {"type": ["string", "null"]},
            "available": {"type": "array", "items": {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"}}}}}},
        "LanguageChoice": {"type": "object", "required": ["language"],
                           "additionalProperties": False, "properties": {
                               "language": {"type": ["string", "null"],
                                            "enum": [*LANGUAGES, None]}}}}
    return paths, schemas


def came_from(request):
    """The page to come back to after choosing a language."""
    path = request.path_info
    return path + "?" + request.query_string if request.query_string else path


def language_links(request):
    """(code, name, url, current) of each language, for the switcher of layout.jinja2."""
    came_from_here = came_from(request)
    current = request.locale_name
    return [(code, LANGUAGE_NAMES[code],
             request.application_url + "/@@language?"
             + urlencode({"lang": code, "came_from": came_from_here}),
             code == current)
            for code in LANGUAGES]


def add_renderer_globals(event):
    request = event.get("request")
    if request is not None:
        event["language_links"] = lambda: language_links(request)
        event["language_came_from"] = lambda: came_from(request)


def includeme(config):
    config.add_translation_dirs("cabinet:locale")
    config.set_locale_negotiator(negotiate_locale)
    config.add_view(language_view, context=ISite, name="language", request_method="GET",
                    permission=NO_PERMISSION_REQUIRED)
    config.add_view(choose_language_form, context=ISite, name="language",
                    request_method="POST", permission="site:view")
    config.add_view(get_language, context=ISite, name="@language", request_method="GET",
                    renderer="json", permission=NO_PERMISSION_REQUIRED)
    config.add_view(patch_language, context=ISite, name="@language",
                    request_method="PATCH", renderer="json", permission="site:view")
    config.add_subscriber(add_renderer_globals, BeforeRender)
