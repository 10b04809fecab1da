"""Clocks: the system one, and a fixed one that tests move."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from zope.interface import implementer

from cabinet.interfaces import IClock


@implementer(IClock)
class SystemClock:
    def __init__(self, settings=None):
        self.zone = ZoneInfo((settings or {}).get("cabinet.timezone", "Europe/Luxembourg"))

    def now(self):
        return datetime.now(timezone.utc).replace(tzinfo=None)

    def today(self):
        return datetime.now(self.zone).date()


@implementer(IClock)
class FixedClock:
    """A clock that stands still until told to move (tests, demos)."""

    def __init__(self, settings=None, at=None):
        value = (settings or {}).get("cabinet.clock.at")
        self.current = at or (datetime.fromisoformat(value) if value
                              else datetime(2026, 1, 15, 9, 0))

    def now(self):
        return self.current

    def today(self):
        return self.current.date()

    def set(self, value):
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, self.current.time())
        self.current = value

    def advance(self, **delta):
        self.current += timedelta(**delta)
