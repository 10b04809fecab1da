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

Texts written in Python (flash messages, mails, SMS, error messages) go through ONE
mechanism, this module's: they are French msgids made with ``_()`` (a
TranslationString of the ``cabinet`` domain, placeholders ``${name}`` with a
``mapping``) or marked with ``N_()`` when kept in a constant, and become text in a
given language only at the last moment:

- ``flash(request, msgid, **mapping)``: a flash message in the reader's language;
- ``translate(request, msgid, lang=None, **mapping)``: the text in ``lang`` (default:
  the request's language); mapping values that are msgids are translated too;
- ``language_of(request, user=None)``: the recipient's language for a mail or an SMS:
  the user's profile language when the recipient is a known user, else the request's,
  else French;
- ``use_language(request, lang)``: a procedure that keeps the language it was started
  in (a questionnaire response, the patient login) renders its pages in ``lang``.

Error messages (cabinet.errors) may be msgids too: an HTML error page shows them in
the reader's language (templates/error.jinja2); JSON errors keep the French text
(``message``), their ``type`` being the stable field for programs.
"""
from urllib.parse import quote_plus

from pyramid.events import BeforeRender
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationString, TranslationStringFactory, make_localizer
from pyramid.interfaces import ILocalizer, ITranslationDirectories
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid_jinja2.i18n import GetTextWrapper

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


def C_(context, message):
    """Marks a French text whose translation depends on what it names (``context``,
    the catalogs' msgctxt): "Rendez-vous" is a type, "Termin" in German, and a
    folder, "Termine". Extracted with babel's keyword ``C_:1c,2`` (Makefile)."""
    return TranslationString(message, domain=DOMAIN, context=context)


#: the project's translation string factory: ``_("« ${title} » ajouté.", mapping=...)``
_ = TranslationStringFactory("cabinet")
DOMAIN = "cabinet"


def localizer_for(request, lang):
    """The localizer of ``lang`` (one of LANGUAGES, else the request's own)."""
    if lang not in LANGUAGES or lang == request.locale_name:
        return request.localizer
    registry = request.registry
    localizer = registry.queryUtility(ILocalizer, name=lang)
    if localizer is None:     # as pyramid makes (and keeps) a request's localizer
        directories = registry.queryUtility(ITranslationDirectories, default=[])
        localizer = make_localizer(lang, directories)
        registry.registerUtility(localizer, ILocalizer, name=lang)
    return localizer


def _msgid(msgid, mapping):
    if isinstance(msgid, TranslationString):
        if mapping:
            return TranslationString(msgid, domain=msgid.domain or DOMAIN,
                                     mapping={**(msgid.mapping or {}), **mapping})
        return msgid
    return _(msgid, mapping=mapping or None)


def translate(request, msgid, lang=None, **mapping):
    """``msgid`` (a French msgid or a TranslationString) as text in ``lang``, by
    default the request's language; mapping values that are TranslationStrings are
    translated first, their own values too (a field's title in a guardian's field's
    title, "Prénom (parent 1)")."""
    localizer = localizer_for(request, lang) if lang else request.localizer
    message = _msgid(msgid, mapping)
    if message.mapping:
        values = {key: translate(request, value, lang) if isinstance(value, TranslationString)
                  else value for key, value in message.mapping.items()}
        message = TranslationString(message, domain=message.domain or DOMAIN,
                                    mapping=values)
    return localizer.translate(message, domain=message.domain or DOMAIN)


def french(value):
    """Texts in French: msgids (TranslationStrings) as their French text, their
    placeholders filled, msgids among their values too (JSON answers and errors keep
    the French text)."""
    if isinstance(value, TranslationString):
        if value.mapping:
            value = TranslationString(value, mapping=french(value.mapping))
        return value.interpolate()
    if isinstance(value, dict):
        return {key: french(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [french(item) for item in value]
    return value


def text_for(request, message):
    """``message`` (a msgid, with a mapping or not) in the language of ``request``; in
    French without one (a JSON answer, the history, a script)."""
    if request is None:
        return french(message)
    if not getattr(message, "mapping", None):
        return text(request.localizer, message)      # memoized
    return translate(request, message)


def flash(request, msgid, queue="", **mapping):
    """A flash message shown to the reader in their language (it is translated now:
    the session keeps text)."""
    request.session.flash(translate(request, msgid, **mapping), queue)


def language_of(request, user=None):
    """The language of a mail or an SMS: ``user``'s profile language when the
    recipient is a known user, else the request's, else French."""
    if user is not None and getattr(user, "language", None) in LANGUAGES:
        return user.language
    lang = getattr(request, "locale_name", None)
    return lang if lang in LANGUAGES else LANGUAGES[0]


def use_language(request, lang):
    """The rest of this request speaks ``lang`` (a procedure that keeps the language it
    was started in): its page, its form's labels and errors."""
    if lang in LANGUAGES and lang != request.locale_name:
        request.__dict__["locale_name"] = lang
        request.__dict__.pop("localizer", None)


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
        raise errors.unprocessable(N_("Langue inconnue : choisissez fr, de ou en."),
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
        raise errors.unprocessable(N_("Seule la langue peut être changée ici."),
                                   errors={name: N_("Champ inconnu.") for name in unknown})
    if "language" not in body:
        raise errors.unprocessable(N_("Indiquez la langue."), errors={"language": "fr, de, en"})
    lang = body["language"]
    if lang is not None and lang not in LANGUAGES:
        raise errors.unprocessable(N_("Langue inconnue : choisissez fr, de ou en."),
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
    # the page to come back to is quoted once (urlencode's quoting), for every link
    back = "&came_from=" + quote_plus(came_from(request))
    base = request.application_url + "/@@language?lang="
    current = request.locale_name
    return [(code, LANGUAGE_NAMES[code], base + code + back, code == current)
            for code in LANGUAGES]


#: (language, French msgid) -> text; see text()
_TEXTS = {}
#: at most so many texts are kept: every template's and label's in the three
#: languages fit many times
TEXTS_KEPT = 10_000


def text(localizer, message):
    """The French msgid ``message`` (a plain str) in ``localizer``'s language,
    translated once per process and language: through the localizer and
    translationstring a translation costs ~4 us, and a listing asks for its labels
    on every row."""
    key = ((localizer.locale_name, message) if type(message) is str else
           (localizer.locale_name, message, message.context))   # a C_() msgid
    found = _TEXTS.get(key)
    if found is None:
        found = localizer.translate(message, domain=DOMAIN)
        if len(_TEXTS) < TEXTS_KEPT:
            _TEXTS[key] = found
    return found


class TemplateGettext(GetTextWrapper):
    """The templates' ``_()`` (pyramid_jinja2's, named by ``jinja2.i18n.gettext`` in
    cabinet.main), through text(). A message with a mapping, or a TranslationString
    (its own domain and mapping), is translated every time."""

    def gettext(self, message, mapping=None):
        localizer = self.localizer
        if mapping or type(message) is not str:
            return localizer.translate(message, domain=self.domain, mapping=mapping)
        return text(localizer, message)


#: French typography, translated: "Total : 3" is "Gesamt: 3" and "Total: 3"; « x »
#: is „x“ and “x”
LABELLED = N_("${label} : ${value}")
QUOTED = N_("« ${text} »")


def labelled(localizer, label, value):
    """``label`` and ``value`` joined as the reader's language writes a colon."""
    return (text(localizer, LABELLED).replace("${label}", str(label))
            .replace("${value}", str(value)))


def quoted(localizer, value):
    """``value`` between the reader's language's quotation marks."""
    return text(localizer, QUOTED).replace("${text}", str(value))


def add_renderer_globals(event):
    request = event.get("request")
    if request is not None:
        event["labelled"] = lambda label, value: labelled(request.localizer, label, value)
        event["quoted"] = lambda value: quoted(request.localizer, value)
        # a msgid with a context (msgctxt): pgettext("last name", "Nom") is "Nachname"
        event["pgettext"] = lambda context, message: text(request.localizer,
                                                          C_(context, message))
        event["language_links"] = lambda: language_links(request)
        event["language_came_from"] = lambda: came_from(request)
        event["tr"] = lambda message: translate(request, message) \
            if isinstance(message, str) and message else message


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
