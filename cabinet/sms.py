"""Outgoing SMS (ISmsGateway), chosen by the ``cabinet.sms`` setting:

* ``file`` (development.ini): each SMS is appended as one JSON line
  ``{"to", "text", "sent_at"}`` to ``cabinet.sms.path`` (default ``var/sms.log``);
* ``http`` (production.ini): a JSON ``POST {"to", "text"}`` to ``cabinet.sms.url``
  with ``Authorization: Bearer <token>`` (``cabinet.sms.token``, or the environment
  variable ``CABINET_SMS_TOKEN``), ``cabinet.sms.timeout`` seconds (default 10); any
  answer but 2xx, a timeout or a refused connection raises ``SmsError``;
* ``memory`` (the default when nothing is configured, tests): kept in ``outbox``.

A dotted name may also be given: a factory taking the settings.

SMS are transactional like mail: ``send_sms`` hands the message over only after the
request's transaction has committed, through the outbox (cabinet.outbox: a row
written in the transaction, so a committed SMS is not lost if the process dies
before the gateway call; the worker sends what is left). With the file or memory gateway, the page
``/dev-sms`` shows the last messages (development only: it is not registered with
the HTTP gateway).
"""
import json
import logging
import os
import socket
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque

from pyramid.path import DottedNameResolver
from zope.interface import implementer

from cabinet.after_commit import after_commit, current_transaction
from cabinet.interfaces import IClock, ISmsGateway

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway refused the message or could not be reached."""


@implementer(ISmsGateway)
class MemorySmsGateway:
    """Keeps what was sent, newest last (tests and development)."""
    development = True

    def __init__(self, settings=None, clock=None):
        self.clock = clock
        self.outbox = []

    def send(self, to, text):
        sent_at = self.clock.now().isoformat() if self.clock else ""
        self.outbox.append({"to": to, "text": text, "sent_at": sent_at})

    def last(self, count=20):
        return list(reversed(self.outbox[-count:]))


@implementer(ISmsGateway)
class FileSmsGateway:
    """Appends one JSON line per SMS to a log file that a developer can read."""
    development = True

    def __init__(self, settings=None, clock=None):
        settings = settings or {}
        self.path = settings.get("cabinet.sms.path") or os.path.join("var", "sms.log")
        self.clock = clock
        self._lock = threading.Lock()

    def send(self, to, text):
        line = json.dumps({"to": to, "text": text,
                           "sent_at": self.clock.now().isoformat() if self.clock else ""},
                          ensure_ascii=False)
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def last(self, count=20):
        """The last ``count`` messages, newest first (bad lines are skipped)."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                lines = deque(handle, maxlen=count)
        except FileNotFoundError:
            return []
        out = []
        for line in reversed(lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out


@implementer(ISmsGateway)
class HttpSmsGateway:
    development = False

    def __init__(self, settings=None, clock=None):
        settings = settings or {}
        self.url = settings.get("cabinet.sms.url")
        if not self.url:
            raise ValueError("setting 'cabinet.sms.url' is required with cabinet.sms = http")
        self.token = settings.get("cabinet.sms.token") or os.environ.get("CABINET_SMS_TOKEN")
        self.sender = settings.get("cabinet.sms.sender") or None
        self.timeout = float(settings.get("cabinet.sms.timeout", 10))

    def send(self, to, text):
        payload = {"to": to, "text": text}
        if self.sender:
            payload["from"] = self.sender
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=json.dumps(payload).encode("utf-8"),
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            raise SmsError(f"SMS gateway answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as exc:
            raise SmsError(f"SMS gateway unreachable: {exc}") from exc


IMPLEMENTATIONS = {"memory": MemorySmsGateway, "file": FileSmsGateway,
                   "http": HttpSmsGateway}


def gateway_from_settings(settings, clock=None):
    name = (settings.get("cabinet.sms") or "memory").strip()
    factory = IMPLEMENTATIONS.get(name) or DottedNameResolver().maybe_resolve(name)
    return factory(settings, clock=clock)


def get_sms_gateway(registry):
    return registry.getUtility(ISmsGateway)


def _deliver(gateway, to, text, registry=None):
    from cabinet.gateway_status import note_safely
    try:
        gateway.send(to, text)
    except Exception as exc:   # the transaction is committed: log, never raise
        log.exception("could not send an SMS to %s", mask_phone(to))
        if registry is not None:
            note_safely(registry, "sms", f"{type(exc).__name__}: {exc}")
        return False
    if registry is not None:
        note_safely(registry, "sms")
    return True


def send_sms(request, to, text, decoy=False):
    """Send ``text`` to ``to`` when the request's transaction commits (at once when
    no transaction is active); never when it aborts.

    Within a transaction the SMS is first a row of the outbox (cabinet.outbox),
    written with the request's data: delivered right after the commit, or by the
    worker if the process dies before (or the gateway fails).

    ``decoy=True`` sends nothing but does the same database work (a patient login
    for an unknown person takes as long as for a known one)."""
    if current_transaction(request) is None or \
            getattr(request, "dbsession", None) is None:   # a transaction without data
        if decoy:
            return None
        gateway, registry = get_sms_gateway(request.registry), request.registry
        return after_commit(request, lambda: _deliver(gateway, to, text, registry))
    from cabinet.outbox import deliver_now, queue
    registry = request.registry
    message_id = queue(request.dbsession, registry.getUtility(IClock).now(),
                       kind="decoy" if decoy else "sms", channel="sms", recipient=to,
                       text="" if decoy else text,
                       dedup_key=f"sms:{uuid.uuid4().hex}")
    return after_commit(request, lambda: deliver_now(registry, message_id))


def mask_phone(phone):
    """``+352 ••• ••• 456``: enough to recognise one's own number, no more."""
    phone = phone or ""
    if len(phone) <= 4:
        return "•" * len(phone)
    return phone[:4] + "•" * (len(phone) - 7) + phone[-3:]


def includeme(config):
    clock = config.registry.getUtility(IClock)
    gateway = gateway_from_settings(config.get_settings(), clock=clock)
    config.registry.registerUtility(gateway, ISmsGateway)
    if getattr(gateway, "development", False):
        config.include("cabinet.views.sms")
