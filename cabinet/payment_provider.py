"""The online payment provider (IPaymentProvider, issue #9, P2), chosen by the
``cabinet.payments.provider`` setting:

* ``fake`` (development.ini, tests; the default): Cabinet's own page
  ``/@@fake-payment?reference=...`` plays the provider: the payer approves or
  declines, and the page sends the signed callback as a provider would;
* ``hosted`` (production.ini): a provider's hosted payment page at
  ``cabinet.payments.url`` (the payment's reference, amount in cents, currency, the
  callback and return URLs as query parameters);
* a dotted name: a factory taking the settings.

Callbacks (both): ``POST /@payment-callback`` with a JSON body
``{"reference", "status": "approved" | "declined", "amount": "12.50"}`` and the
header ``X-Payment-Signature``: the hex HMAC-SHA256 of the raw body with the secret
``cabinet.payments.secret`` (environment: ``CABINET_PAYMENTS_SECRET``; without it,
one derived from the session secret, for development and tests only).
"""
import hashlib
import hmac
import json
from urllib.parse import urlencode

from pyramid.path import DottedNameResolver
from zope.interface import implementer

from cabinet.interfaces import IPaymentProvider

SIGNATURE_HEADER = "X-Payment-Signature"
STATUSES = ("approved", "declined")
MAX_BODY = 4096


class BadCallback(Exception):
    """A callback whose signature does not hold, or whose body is malformed."""


def payments_secret(settings):
    secret = settings.get("cabinet.payments.secret")
    if secret:
        return secret.encode()
    session = settings.get("cabinet.session_secret") or ""
    return hmac.new(session.encode(), b"cabinet payment callbacks",
                    hashlib.sha256).digest()


class _Signed:
    """Signing and checking the callbacks (HMAC-SHA256 of the raw body)."""

    def __init__(self, settings):
        self.secret = payments_secret(settings or {})

    def sign(self, body):
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def parse_callback(self, request):
        body = request.body or b""
        if len(body) > MAX_BODY:
            raise BadCallback("callback body too long")
        given = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
        given = given.removeprefix("sha256=")
        if not given or not hmac.compare_digest(given, self.sign(body)):
            raise BadCallback("invalid signature")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadCallback("the body is not JSON") from exc
        if (not isinstance(data, dict) or not isinstance(data.get("reference"), str)
                or data.get("status") not in STATUSES
                or not isinstance(data.get("amount"), str)):
            raise BadCallback("reference, status and amount are required")
        return {"reference": data["reference"], "status": data["status"],
                "amount": data["amount"]}

    def callback_body(self, reference, status, amount):
        """The body a provider sends (the fake provider's page and tests use it)."""
        return json.dumps({"reference": reference, "status": status,
                           "amount": f"{amount:.2f}"}).encode()


@implementer(IPaymentProvider)
class FakePaymentProvider(_Signed):
    """Development and tests: Cabinet's own page plays the provider."""
    development = True

    def start(self, request, payment, callback_url, return_url):
        return (f"{request.application_url}/@@fake-payment?"
                + urlencode({"reference": payment.reference}))


@implementer(IPaymentProvider)
class HostedPaymentProvider(_Signed):
    """A provider's hosted payment page (``cabinet.payments.url``)."""
    development = False

    def __init__(self, settings):
        super().__init__(settings)
        self.url = (settings or {}).get("cabinet.payments.url")
        if not self.url:
            raise ValueError("setting 'cabinet.payments.url' is required with "
                             "cabinet.payments.provider = hosted")
        if not (settings or {}).get("cabinet.payments.secret"):
            raise ValueError("setting 'cabinet.payments.secret' is required with "
                             "cabinet.payments.provider = hosted")
        self.merchant = settings.get("cabinet.payments.merchant", "")

    def start(self, request, payment, callback_url, return_url):
        query = {"merchant": self.merchant, "reference": payment.reference,
                 "amount": int(payment.amount * 100), "currency": "EUR",
                 "callback": callback_url, "return": return_url}
        return f"{self.url}?{urlencode(query)}"


IMPLEMENTATIONS = {"fake": FakePaymentProvider, "hosted": HostedPaymentProvider}


def provider_from_settings(settings):
    name = (settings.get("cabinet.payments.provider") or "fake").strip()
    factory = IMPLEMENTATIONS.get(name) or DottedNameResolver().maybe_resolve(name)
    return factory(settings)


def get_provider(registry):
    return registry.getUtility(IPaymentProvider)


def includeme(config):
    provider = provider_from_settings(config.get_settings())
    config.registry.registerUtility(provider, IPaymentProvider)
    if getattr(provider, "development", False):
        config.include("cabinet.views.fake_payment")
