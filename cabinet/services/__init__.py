"""Services behind interfaces, chosen by dotted name in the .ini files."""
from pyramid.path import DottedNameResolver

from cabinet.interfaces import IClock, IRateLimiter


def register_services(registry):
    """(Re)build the clock and the rate limiter from the registry's settings."""
    settings = registry.settings
    resolve = DottedNameResolver().maybe_resolve
    clock_factory = resolve(settings.get("cabinet.clock", "cabinet.services.clock.SystemClock"))
    registry.registerUtility(clock_factory(settings), IClock)
    limiter_factory = resolve(settings.get("cabinet.ratelimiter",
                                           "cabinet.services.ratelimit.LimitsRateLimiter"))
    registry.registerUtility(limiter_factory(settings), IRateLimiter)


def includeme(config):
    register_services(config.registry)
