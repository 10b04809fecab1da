"""Rate limits with the ``limits`` library: memory by default, Redis for many processes."""
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from zope.interface import implementer

from cabinet.interfaces import IRateLimiter

DEFAULT_LIMITS = {
    "login.account": "5/15minute",
    "login.address": "30/15minute",
    "registry.lookup": "60/hour",   # national person registry look-ups, per user
    "mandate.activation": "5/hour",  # wrong mandate codes, per provider space
    "patient_login.phone": "10/hour",        # patient login attempts (A3), per phone
    "patient_login.address": "30/15minute",  # and per address
    # one-time codes sent by SMS (cabinet.otp), whatever they are for: per phone
    # and per requesting address (each binding also has its own resend limits)
    "otp.phone": "30/hour",
    "otp.address": "100/hour",
}


@implementer(IRateLimiter)
class LimitsRateLimiter:
    def __init__(self, settings=None):
        settings = settings or {}
        self.storage = storage_from_string(settings.get("cabinet.ratelimit.storage",
                                                        "memory://"))
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.limits = {scope: parse(settings.get(f"cabinet.ratelimit.{scope}", default))
                       for scope, default in DEFAULT_LIMITS.items()}

    def hit(self, scope, key):
        return self.limiter.hit(self.limits[scope], scope, key)

    def test(self, scope, key):
        return self.limiter.test(self.limits[scope], scope, key)

    def clear(self, scope, key):
        self.limiter.clear(self.limits[scope], scope, key)

    def reset(self):
        self.storage.reset()
