"""The SMS gateways (cabinet/sms.py): the development log file, the production HTTP
gateway against a real local HTTP server, sending only after commit, and the
development-only page of the last messages."""
import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import transaction
import webtest

from cabinet import main
from cabinet.interfaces import ISmsGateway
from cabinet.services.clock import FixedClock
from cabinet.sms import (
    FileSmsGateway, HttpSmsGateway, MemorySmsGateway, SmsError, gateway_from_settings,
    mask_phone, send_sms,
)


class Gateway:
    """A small HTTP SMS gateway on 127.0.0.1:<free port>, recording what it gets."""

    def __init__(self, status=200):
        self.received = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.received.append({"path": self.path, "headers": dict(self.headers),
                                       "body": json.loads(self.rfile.read(length))})
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id": "msg-1"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_development_log_is_one_json_line_per_sms(tmp_path):
    path = tmp_path / "var" / "sms.log"
    clock = FixedClock(at=datetime(2026, 3, 10, 9, 0))
    gateway = gateway_from_settings({"cabinet.sms": "file", "cabinet.sms.path": str(path)},
                                    clock=clock)
    assert isinstance(gateway, FileSmsGateway)
    gateway.send("+352621123456", "Votre code : 123456")
    clock.advance(minutes=1)
    gateway.send("+33612345678", "Deuxième « message »")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"to": "+352621123456", "text": "Votre code : 123456",
         "sent_at": "2026-03-10T09:00:00"},
        {"to": "+33612345678", "text": "Deuxième « message »",
         "sent_at": "2026-03-10T09:01:00"}]
    assert gateway.last(1) == [json.loads(lines[1])]      # newest first


def test_http_gateway_posts_json_with_the_token():
    with Gateway() as server:
        gateway = gateway_from_settings({"cabinet.sms": "http", "cabinet.sms.url": server.url,
                                         "cabinet.sms.token": "s3cret",
                                         "cabinet.sms.sender": "Cabinet"})
        assert isinstance(gateway, HttpSmsGateway)
        gateway.send("+352621123456", "Votre code : 654321")
    [request] = server.received
    assert request["path"] == "/api/sms"
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"to": "+352621123456", "text": "Votre code : 654321",
                               "from": "Cabinet"}


def test_http_gateway_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("CABINET_SMS_TOKEN", "from-env")
    with Gateway() as server:
        HttpSmsGateway({"cabinet.sms.url": server.url}).send("+352621123456", "x")
    assert server.received[0]["headers"]["Authorization"] == "Bearer from-env"


def test_http_gateway_failures_raise_sms_error():
    with Gateway(status=503) as server:
        with pytest.raises(SmsError, match="503"):
            HttpSmsGateway({"cabinet.sms.url": server.url}).send("+352621123456", "x")
        url = server.url
    with pytest.raises(SmsError, match="unreachable"):       # the server is gone
        HttpSmsGateway({"cabinet.sms.url": url, "cabinet.sms.timeout": "2"}).send(
            "+352621123456", "x")
    with pytest.raises(ValueError, match="cabinet.sms.url"):
        HttpSmsGateway({})


def test_masked_phone_shows_country_and_last_digits():
    assert mask_phone("+352621123456") == "+352••••••456"


class FakeRequest:
    def __init__(self, registry):
        self.registry = registry
        self.tm = transaction.TransactionManager(explicit=True)


def test_sms_leave_only_when_the_transaction_commits(registry):
    gateway = registry.getUtility(ISmsGateway)
    assert isinstance(gateway, MemorySmsGateway)      # nothing configured: memory
    request = FakeRequest(registry)
    request.tm.begin()
    send_sms(request, "+352621123456", "annulé")
    request.tm.abort()
    assert gateway.outbox == []
    request.tm.begin()
    send_sms(request, "+352621123456", "validé")
    assert gateway.outbox == []                        # not before the commit
    request.tm.commit()
    assert [m["text"] for m in gateway.outbox] == ["validé"]


def test_development_page_shows_the_last_messages(registry, testapp):
    registry.getUtility(ISmsGateway).send("+352621123456", "Votre code : 424242")
    page = testapp.get("/dev-sms")
    assert "Votre code : 424242" in page.text
    assert page.html.select_one(".sms-to").get_text() == "+352621123456"


def test_development_page_with_the_file_gateway(app, settings, tmp_path):
    path = tmp_path / "sms.log"
    other = main({}, **{**settings, "cabinet.sms": "file", "cabinet.sms.path": str(path)})
    other.registry.getUtility(ISmsGateway).send("+32470123456", "Code : 111222")
    page = webtest.TestApp(other).get("/dev-sms")
    assert "Code : 111222" in page.text and str(path) in page.text


def test_no_development_page_with_the_http_gateway(app, settings):
    other = main({}, **{**settings, "cabinet.sms": "http",
                        "cabinet.sms.url": "http://127.0.0.1:9/sms"})
    assert isinstance(other.registry.getUtility(ISmsGateway), HttpSmsGateway)
    response = webtest.TestApp(other).get("/dev-sms", status="*")
    assert response.status_int == 404
