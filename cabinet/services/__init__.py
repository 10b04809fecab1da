"""Services behind interfaces, chosen by dotted name in the .ini files."""
from pyramid.path import DottedNameResolver

from cabinet.interfaces import IClock, IRateLimiter


def includeme(config):
    settings = config.get_settings()
    resolve = DottedNameResolver().maybe_resolve
    clock_factory = resolve(settings.get("cabinet.clock", "cabinet.services.clock.SystemClock"))
    config.registry.registerUtility(clock_factory(settings), IClock)
    limiter_factory = resolve(settings.get("cabinet.ratelimiter",
                                           "cabinet.services.ratelimit.LimitsRateLimiter"))
    config.registry.registerUtility(limiter_factory(settings), IRateLimiter)
