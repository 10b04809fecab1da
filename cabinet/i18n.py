"""Languages of the pages (issue #10, A4): French (default), German and English.

The ``cabinet`` message catalogs live in cabinet/locale/<lang>/LC_MESSAGES/cabinet.po
(their msgids are the French texts of the templates) and are compiled to .mo files by
``make catalogs`` (babel.cfg says what is extracted). The language of a request is, in
this order: an explicit ``_LOCALE_`` query parameter, the language chosen with the
switcher of the page header (the ``cabinet_lang`` cookie set by ``@@language``), the
best of the browser's Accept-Language among the three, else French.
"""
from urllib.parse import urlencode

from pyramid.events import BeforeRender
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED

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


def negotiate_locale(request):
    """The locale negotiator: explicit choice, then the browser, then the default."""
    chosen = request.GET.get("_LOCALE_")
    if chosen in LANGUAGES:
        return chosen
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_language.lookup(LANGUAGES, default=default_language(request))


def language_view(request):
    """``@@language?lang=de&came_from=/path``: keep the choice (a cookie, a mere
    preference, no session) and go back to the page, a local path only."""
    from cabinet.views.auth import safe_came_from
    response = HTTPSeeOther(location=safe_came_from(request, request.GET.get("came_from")))
    lang = request.GET.get("lang")
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, httponly=True,
                            samesite="Lax", path=request.script_name or "/",
                            secure=request.scheme == "https")
    return response


def language_links(request):
    """(code, name, url, current) of each language, for the switcher of layout.jinja2."""
    came_from = request.path_info
    if request.query_string:
        came_from += "?" + request.query_string
    current = request.locale_name
    return [(code, LANGUAGE_NAMES[code],
             request.application_url + "/@@language?"
             + urlencode({"lang": code, "came_from": came_from}),
             code == current)
            for code in LANGUAGES]


def add_renderer_globals(event):
    request = event.get("request")
    if request is not None:
        event["language_links"] = lambda: language_links(request)


def includeme(config):
    config.add_translation_dirs("cabinet:locale")
    config.set_locale_negotiator(negotiate_locale)
    config.add_view(language_view, context=ISite, name="language", request_method="GET",
                    permission=NO_PERMISSION_REQUIRED)
    config.add_subscriber(add_renderer_globals, BeforeRender)
