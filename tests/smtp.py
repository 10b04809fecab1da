"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port).

Use in a test module::

    from tests.smtp import smtp_server, mail_settings  # noqa: F401

``smtp_server`` receives what Cabinet really sends over SMTP; ``mail_settings`` is
the settings fragment pointing Cabinet's mailer at it (merge it into ``settings``
before the app is built, e.g. by overriding the ``settings`` fixture)::

    @pytest.fixture
    def settings(settings, mail_settings):
        return {**settings, **mail_settings}

Then ``smtp_server.wait_for(1)`` returns the received messages (parsed
``email.message.EmailMessage``); mail is sent only when the transaction commits.
"""
import socket
import threading
import time
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content
                                                                or envelope.content)
        with self.server._lock:
            self.server.envelopes.append({"from": envelope.mail_from,
                                          "to": list(envelope.rcpt_tos)})
            self.server.messages.append(message)
            self.server._lock.notify_all()
        return "250 Message accepted for delivery"


class SMTPTestServer:
    """``.host``, ``.port``, ``.messages`` (parsed EmailMessage), ``.envelopes``
    ({"from", "to"} per message), ``wait_for(count, timeout=5)``."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.port = free_port(host)
        self.messages = []
        self.envelopes = []
        self._lock = threading.Condition()
        self._controller = Controller(_Handler(self), hostname=host, port=self.port)

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    def wait_for(self, count, timeout=5):
        """Wait until at least ``count`` messages arrived; return the messages.
        Fails the test (AssertionError) when they do not arrive in time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} mail(s), received {len(self.messages)}: "
                        f"{[m['Subject'] for m in self.messages]}")
                self._lock.wait(remaining)
            return list(self.messages)

    def clear(self):
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()


@pytest.fixture
def smtp_server():
    server = SMTPTestServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_settings(smtp_server):
    """Settings sending Cabinet's mail over SMTP to ``smtp_server``."""
    return {
        "cabinet.mailer": "smtp",
        "mail.host": smtp_server.host,
        "mail.port": str(smtp_server.port),
        "mail.tls": "false",
        "mail.default_sender": "Cabinet <noreply@cabinet.test>",
    }
