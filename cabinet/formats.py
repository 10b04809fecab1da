"""Dates, times, amounts and numbers in the language of the request (issue #10, A4),
with Babel's locale data: the templates' filters ``date``, ``time``, ``datetime``,
``amount`` and ``number``.

French keeps the short forms a French user reads (24/11/2026 21:47, 1 234,50 €);
German and English use the medium date, which spells the year in full (24.11.2026,
Nov 24, 2026). Values are shown as they are stored: appointment times are the
cabinet's local times, other timestamps UTC."""
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal
from jinja2 import pass_context

DATE_FORMAT = {"fr": "short"}
DEFAULT_DATE_FORMAT = "medium"
CURRENCY = "EUR"


def _locale(request):
    return request.locale_name if request is not None else "fr"


def date(request, value):
    if value is None:
        return ""
    lang = _locale(request)
    return format_date(value, DATE_FORMAT.get(lang, DEFAULT_DATE_FORMAT), locale=lang)


def time(request, value):
    return "" if value is None else format_time(value, "short", locale=_locale(request))


def datetime(request, value):
    """The date as ``date`` says it and the time, joined as the language says "on
    <date> at <time>" (10/03/2026 à 14:30, 10.03.2026 um 14:30)."""
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
