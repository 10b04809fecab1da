"""A period of days a user asks for (the console's questionnaires over a period, its
work queue, the statistics): one rule and one set of messages for every page.

A day is written YYYY-MM-DD; a period ends on or after the day it starts and spans
at most two years (issue #10, "bad input"): 1 January 2024 to 31 December 2025 is
the longest from that day. ``PeriodError`` says what is wrong (a msgid the page
shows in the reader's language) and names the parameter at fault; each view answers
it with its status and form."""
from datetime import date

from cabinet.i18n import N_

MAX_YEARS = 2
MALFORMED = N_("Date invalide : saisissez une date AAAA-MM-JJ.")
BACKWARDS = N_("La période se termine avant de commencer : la date de fin doit suivre "
               "la date de début.")
TOO_LONG = N_("La période dépasse deux ans : choisissez une période plus courte.")


class PeriodError(ValueError):
    """A period that cannot be used: ``message`` says why, ``field`` names the
    parameter."""

    def __init__(self, message, field):
        super().__init__(message)
        self.message, self.field = message, field


def years_after(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:                      # 29 February
        return day.replace(year=day.year + years, day=28)


def parse_day(raw, field):
    """The date written ``raw`` (YYYY-MM-DD exactly), else PeriodError."""
    try:
        if not isinstance(raw, str) or len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise PeriodError(MALFORMED, field)


def check_period(start, end, field):
    """PeriodError naming ``field`` (the end's parameter) when the period ends before
    it starts or spans more than MAX_YEARS years."""
    if end < start:
        raise PeriodError(BACKWARDS, field)
    if end >= years_after(start, MAX_YEARS):
        raise PeriodError(TOO_LONG, field)
