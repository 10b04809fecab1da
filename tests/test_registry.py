"""The national person registry: the CSV (development) and HTTP (production)
implementations, and ``GET /@registry/<matricule>``."""
import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import webtest

from cabinet import main
from cabinet.interfaces import IPersonRegistry
from cabinet.matricule import InvalidMatricule, is_valid, make_matricule
from cabinet.registry import (
    CsvPersonRegistry, HttpPersonRegistry, RegistryUnavailable, registry_from_settings,
)
from tests.conftest import Api, api_token

SOPHIE = "1988051704221"      # Sophie Dupont, the demo secretary
LUCIE = "1985041212393"       # Lucie Leroy, the demo patient
NOBODY = make_matricule(date(1966, 6, 6), 666)   # valid, held by nobody
LIMIT = 5


@pytest.fixture
def settings(settings):
    return {**settings, "cabinet.ratelimit.registry.lookup": f"{LIMIT}/hour"}


# -- the CSV registry -------------------------------------------------------------------------

def test_shipped_csv_holds_valid_fictitious_people():
    registry = CsvPersonRegistry({})
    people = registry.people
    assert len(people) >= 50
    assert all(is_valid(m) for m in people)
    names = {(p["first_name"], p["last_name"]) for p in people.values()}
    assert ("Sophie", "Dupont") in names
    demo_accounts = {("Anne", "Admin"), ("Paul", "Martin"), ("Eva", "Weber"),
                     ("Sophie", "Dupont"), ("Lucie", "Leroy")}
    assert len(names - demo_accounts) >= 40      # people who have no account
    assert all(p["address"] and "L-" in p["address"] for p in people.values())


def test_csv_lookup():
    registry = CsvPersonRegistry({})
    person = registry.lookup("1988 0517 042 21")
    assert person == {"matricule": SOPHIE, "first_name": "Sophie", "last_name": "Dupont",
                      "birth_date": date(1988, 5, 17),
                      "address": "8 rue de Hollerich, L-1741 Luxembourg"}
    assert registry.lookup(NOBODY) is None
    with pytest.raises(InvalidMatricule) as caught:
        registry.lookup("1988051704222")
    assert caught.value.part == "verhoeff"


def test_csv_from_settings_is_checked_on_load(tmp_path):
    good = tmp_path / "people.csv"
    good.write_text("matricule,first_name,last_name,birth_date,address\n"
                    f"{NOBODY},Gust,Thill,1966-06-06,\"1 rue Haute, L-9999 Wiltz\"\n",
                    encoding="utf-8")
    registry = registry_from_settings({"cabinet.registry": "csv",
                                       "cabinet.registry.csv": str(good)})
    assert registry.lookup(NOBODY)["last_name"] == "Thill"
    bad = tmp_path / "bad.csv"
    bad.write_text("matricule,first_name,last_name,birth_date,address\n"
                   "1966060666601,Gust,Thill,1966-06-06,Wiltz\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        CsvPersonRegistry({"cabinet.registry.csv": str(bad)})


def test_registry_is_chosen_by_settings(app):
    assert isinstance(app.registry.getUtility(IPersonRegistry), CsvPersonRegistry)
    registry = registry_from_settings({"cabinet.registry": "http",
                                       "cabinet.registry.url": "http://x/{matricule}"})
    assert isinstance(registry, HttpPersonRegistry)
    with pytest.raises(ValueError, match="cabinet.registry.url"):
        registry_from_settings({"cabinet.registry": "http"})


# -- the HTTP registry, against a local server -------------------------------------------------

SLOW = make_matricule(date(1970, 1, 1), 1)
BROKEN = make_matricule(date(1970, 1, 1), 2)
GARBAGE = make_matricule(date(1970, 1, 1), 3)
OTHER = make_matricule(date(1970, 1, 1), 4)


class RegistryHandler(BaseHTTPRequestHandler):
    people = {LUCIE: {"matricule": LUCIE, "first_name": "Lucie", "last_name": "Leroy",
                      "birth_date": "1985-04-12", "address": "3 rue des Prés, L-7333 Steinsel"}}

    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        matricule = self.path.rsplit("/", 1)[-1]
        if matricule == SLOW:
            time.sleep(1.5)
            return self.answer(200, self.people[LUCIE])
        if matricule == BROKEN:
            return self.answer(500, {"error": "database down"})
        if matricule == GARBAGE:
            return self.answer(200, "<html>maintenance</html>", raw=True)
        if matricule == OTHER:
            return self.answer(200, self.people[LUCIE])
        person = self.people.get(matricule)
        if person is None:
            return self.answer(404, {"error": "not found"})
        return self.answer(200, person)

    def answer(self, status, body, raw=False):
        data = (body if raw else json.dumps(body)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass      # the client gave up (timeout)

    def log_message(self, *args):
        pass


@pytest.fixture
def registry_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RegistryHandler)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/persons/{{matricule}}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_registry(registry_server):
    return HttpPersonRegistry({"cabinet.registry.url": registry_server.url,
                               "cabinet.registry.timeout": "0.5",
                               "cabinet.registry.token": "s3cret"})


def test_http_lookup_finds_a_person(http_registry, registry_server):
    person = http_registry.lookup("1985 0412 123 93")
    assert person == {"matricule": LUCIE, "first_name": "Lucie", "last_name": "Leroy",
                      "birth_date": date(1985, 4, 12),
                      "address": "3 rue des Prés, L-7333 Steinsel"}
    assert registry_server.seen == [(f"/persons/{LUCIE}", "Bearer s3cret")]


def test_http_404_is_nobody(http_registry):
    assert http_registry.lookup(NOBODY) is None


@pytest.mark.parametrize("matricule", [BROKEN, SLOW, GARBAGE, OTHER],
                         ids=["500", "timeout", "not-json", "another-person"])
def test_http_failures_are_unavailable(http_registry, matricule):
    with pytest.raises(RegistryUnavailable):
        http_registry.lookup(matricule)


def test_http_refused_connection_is_unavailable():
    from tests.smtp import free_port
    registry = HttpPersonRegistry({"cabinet.registry.url":
                                   f"http://127.0.0.1:{free_port()}/p/{{matricule}}"})
    with pytest.raises(RegistryUnavailable):
        registry.lookup(LUCIE)


def test_http_malformed_number_never_leaves(http_registry, registry_server):
    with pytest.raises(InvalidMatricule):
        http_registry.lookup("../admin")
    assert registry_server.seen == []


# -- GET /@registry/<matricule> ----------------------------------------------------------------

def test_a_professional_looks_up_a_person(demo, api):
    response = api("dr.martin").get(f"/@registry/{SOPHIE}")
    assert response.json == {"matricule": SOPHIE, "first_name": "Sophie",
                             "last_name": "Dupont", "birth_date": "1988-05-17",
                             "address": "8 rue de Hollerich, L-1741 Luxembourg"}
    assert "no-store" in response.headers["Cache-Control"]


def test_spaces_in_the_number_are_accepted(demo, api):
    response = api("admin").get("/@registry/1985%200412%20123%2093")
    assert response.json["last_name"] == "Leroy"


def test_nobody_holds_it(demo, api):
    response = api("dr.martin").get(f"/@registry/{NOBODY}", status=404)
    assert response.json["type"] == "NotFound"
    assert "Aucune personne" in response.json["message"]


@pytest.mark.parametrize("value, part", [
    ("", "empty"), ("12345", "length"), ("1985041212x93", "characters"),
    ("1985133112393", "birth_date"), ("1985041212383", "luhn"),
    ("1985041212394", "verhoeff"), ("1985/0412/12393", "characters"),
])
def test_malformed_numbers_say_which_part(demo, api, value, part):
    response = api("dr.martin").get(f"/@registry/{value}", status=422)
    assert response.json["type"] == "ValidationError"
    assert response.json["part"] == part
    assert response.json["message"]


def test_patients_and_anonymous_may_not_look_up(demo, api, testapp):
    response = api("p.leroy").get(f"/@registry/{SOPHIE}", status=403)
    assert response.json["type"] == "Forbidden"
    assert "professionnels" in response.json["message"]
    assert "Dupont" not in response.text
    response = testapp.get(f"/@registry/{SOPHIE}", status=401)
    assert "Dupont" not in response.text


def test_a_secretary_may_while_her_delegation_is_in_effect(demo, api, db):
    from sqlalchemy import select

    from cabinet.models import Delegation, User
    assert api("sec.dupont").get(f"/@registry/{LUCIE}").json["first_name"] == "Lucie"
    with db() as request:
        dupont = request.dbsession.scalar(select(User).where(User.login == "sec.dupont"))
        delegations = request.dbsession.scalars(
            select(Delegation).where(Delegation.delegate_id == dupont.id)).all()
        assert delegations
        for delegation in delegations:
            delegation.state = "ended"
    response = api("sec.dupont").get(f"/@registry/{LUCIE}", status=403)
    assert response.json["type"] == "Forbidden"


def test_lookups_are_rate_limited_per_user(demo, testapp):
    martin = Api(testapp, api_token(testapp, "dr.martin"))
    for _ in range(LIMIT):
        martin.get(f"/@registry/{LUCIE}", status=200)
    response = martin.get(f"/@registry/{LUCIE}", status=429)
    assert response.json["type"] == "TooManyRequests"
    assert "Dupont" not in response.text
    # another user has their own allowance
    weber = Api(testapp, api_token(testapp, "dr.weber"))
    assert weber.get(f"/@registry/{SOPHIE}").json["last_name"] == "Dupont"


def test_unavailable_registry_answers_503(settings, engine, registry_server):
    app = main({}, **{**settings, "cabinet.registry": "http",
                      "cabinet.registry.url": registry_server.url,
                      "cabinet.registry.timeout": "0.5"})
    from cabinet.scripts import script_request
    from cabinet.scripts.demo import load_demo
    from tests.conftest import empty_tables
    empty_tables(engine)
    request = script_request(app.registry)
    with request.tm:
        load_demo(request)
    try:
        testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                      "REMOTE_ADDR": "127.0.0.1"})
        martin = Api(testapp, api_token(testapp, "dr.martin"))
        assert martin.get(f"/@registry/{LUCIE}").json["last_name"] == "Leroy"
        assert martin.get(f"/@registry/{NOBODY}", status=404).json["type"] == "NotFound"
        response = martin.get(f"/@registry/{BROKEN}", status=503)
        assert response.json["type"] == "RegistryUnavailable"
        assert "indisponible" in response.json["message"]
    finally:
        empty_tables(engine)
