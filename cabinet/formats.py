"""Dates, times, amounts and numbers in the language of the request (issue #10, A4),
with Babel's locale data: the templates' filters ``date``, ``time``, ``datetime``,
``amount`` and ``number``.

French keeps the short forms a French user reads (24/11/2026 21:47, 1 234,50 €);
German and English use the medium date, which spells the year in full (24.11.2026,
Nov 24, 2026). Values are shown as they are given: appointment times, and the times
the work queues convert, are the cabinet's local times, other timestamps UTC; an ISO
string from a page's JSON shows the wall-clock time of its offset."""
from datetime import date as _date, datetime as _datetime

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal
from jinja2 import pass_context

DATE_FORMAT = {"fr": "short"}
DEFAULT_DATE_FORMAT = "medium"
CURRENCY = "EUR"


def _locale(request):
    """The language of ``request``, or ``request`` itself when it is a language code
    (a mail or an SMS in its recipient's language, cabinet.i18n.language_of)."""
    if isinstance(request, str):
        return request
    return request.locale_name if request is not None else "fr"


def _wall_clock(value):
    """A value as the JSON of a page writes it (``2026-03-13T10:00:00+01:00``,
    ``2026-03-13``) read back as the time it shows: the wall-clock time of its offset."""
    if not isinstance(value, str):
        return value
    if len(value) == 10:
        return _date.fromisoformat(value)
    return _datetime.fromisoformat(value).replace(tzinfo=None)


#: (language, date) and (language, hour, minute) -> text: Babel takes ~5 us for a
#: date or a time, and a listing shows one of each per row
_TEXTS = {}
TEXTS_KEPT = 20_000


def _memo(key, make):
    found = _TEXTS.get(key)
    if found is None:
        found = make()
        if len(_TEXTS) < TEXTS_KEPT:
            _TEXTS[key] = found
    return found


def date(request, value):
    value = _wall_clock(value)
    if value is None:
        return ""
    lang = _locale(request)
    day = value.date() if isinstance(value, _datetime) else value
    return _memo((lang, day), lambda: format_date(
        day, DATE_FORMAT.get(lang, DEFAULT_DATE_FORMAT), locale=lang))


def time(request, value):
    """The time of day (hours and minutes, the short format) of ``value``, as it
    shows (no change of time zone)."""
    value = _wall_clock(value)
    if value is None:
        return ""
    lang = _locale(request)
    return _memo((lang, value.hour, value.minute), lambda: format_time(
        value.replace(tzinfo=None), "short", locale=lang))


def date_time(request, value):
    """The date and the time side by side, as a field or a table cell shows a
    timestamp (24/11/2026 21:47, 24.11.2026 21:47, Nov 24, 2026 9:47 PM)."""
    value = _wall_clock(value)
    if value is None:
        return ""
    lang = _locale(request)
    return _memo((lang, value.date(), value.hour, value.minute),
                 lambda: f"{date(lang, value)} {time(lang, value)}")


def datetime(request, value):
    """The date as ``date`` says it and the time, joined as the language says "on
    <date> at <time>" (10/03/2026 à 14:30, 10.03.2026 um 14:30)."""
    value = _wall_clock(value)
    if value is None:
        return ""
    joined = _joiner(_locale(request))
    return joined.replace("{1}", date(request, value)).replace("{0}", time(request, value))


#: "<date> at <time>" in each language (CLDR's "atTime" patterns, which Babel does
#: not expose)
AT_TIME = {"fr": "{1} à {0}", "de": "{1} um {0}", "en": "{1} at {0}"}


def _joiner(lang):
    return AT_TIME.get(lang, "{1} {0}")


def amount(request, value, currency=CURRENCY):
    return "" if value is None else format_currency(value, currency, locale=_locale(request))


def amount_text(request, value, currency=CURRENCY):
    """An amount in a flash message, a mail or an SMS: as ``amount`` says it, with
    ordinary spaces (French: "45,50 €", as cabinet.payments.euros writes it)."""
    return amount(request, value, currency).replace("\xa0", " ").replace("\u202f", " ")


def number(request, value):
    return "" if value is None else format_decimal(value, locale=_locale(request))


def _filter(function):
    @pass_context
    def apply(context, value, *args):
        return function(context.get("request"), value, *args)
    apply.__name__ = function.__name__
    return apply


FILTERS = {"date": date, "time": time, "datetime": datetime, "amount": amount,
           "number": number}


def includeme(config):
    def register():
        environment = config.get_jinja2_environment(".jinja2")
        environment.filters.update({name: _filter(f) for name, f in FILTERS.items()})
    # after pyramid_jinja2 made the environment, as its documentation says
    config.action(None, register, order=999)
