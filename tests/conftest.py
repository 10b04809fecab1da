"""Test fixtures: a migrated database (SQLite, or PostgreSQL with
CABINET_TEST_DB=postgresql), the WSGI app with a fixed clock, and webtest clients.

Every test starts from empty tables; ``demo`` loads the demo data."""
import os
import shutil
import uuid
from collections import OrderedDict
from pathlib import Path

import pytest
import webtest
from sqlalchemy import create_engine, text

from cabinet import main
from cabinet.migrations import upgrade
from cabinet.models import Base
from cabinet.scripts import script_request
from cabinet.services.clock import FixedClock

HERE = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("CABINET_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("CABINET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_report_header(config):
    return f"cabinet database backend: {BACKEND}"


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """argon2 with its cheapest parameters: demo users are created and log in in most
    tests; the hashes stay real argon2 hashes, verified by the real code."""
    import cabinet.passwords
    from argon2 import PasswordHasher
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(cabinet.passwords, "_hasher", hasher)
    monkeypatch.setattr(cabinet.passwords, "_DUMMY", hasher.hash("not a password"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    name = f"cabinet_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # a throwaway database: commits need not wait for the disk
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    from cabinet.models.meta import get_engine
    engine = get_engine({"sqlalchemy.url": database_url})
    upgrade(engine)
    yield engine
    engine.dispose()


def empty_tables(engine):
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def settings(engine, database_url, tmp_path):
    return {
        "cabinet.blobs.path": str(tmp_path / "blobs"),   # issue #4: blob storage
        "sqlalchemy.url": database_url,
        "cabinet.engine": engine,
        "cabinet.workflows": str(HERE / "workflows"),
        "cabinet.templates": str(HERE / "templates"),
        "cabinet.static": str(HERE / "static"),
        "cabinet.session_secret": "test-secret-" + "x" * 40,
        "cabinet.signing_key_secret": "test-signing-key-secret-" + "x" * 24,
        "cabinet.clock": "cabinet.services.clock.FixedClock",
        "cabinet.clock.at": "2026-03-10T09:00:00",
        "retry.attempts": "3",
        "jinja2.extensions": "jinja2.ext.i18n",
        "jinja2.i18n.domain": "cabinet",
        "pyramid.default_locale_name": "fr",
    }


# One application per worker and settings: building one (views, workflows, Jinja2's
# compiled templates) costs more than most tests. A reused application gets fresh
# stateful services (clock, outboxes, rate limiter, codes, blob folder) per test.
_APPS = OrderedDict()
_DEMOS = {}


def _app_key(settings):
    return tuple(sorted((k, repr(v)) for k, v in settings.items()
                        if k != "cabinet.blobs.path"))


def renew_services(registry, settings):
    from cabinet import blobs, mail, otp, registry as person_registry, sms, spaces
    from cabinet.interfaces import IBlobStorage, IClock, IPersonRegistry, ISmsGateway
    from cabinet.services import register_services
    from pyramid_mailer.interfaces import IMailer
    registry.settings.clear()
    registry.settings.update(settings)
    register_services(registry)
    registry.registerUtility(mail.mailer_from_settings(settings), IMailer)
    registry.registerUtility(
        sms.gateway_from_settings(settings, clock=registry.getUtility(IClock)), ISmsGateway)
    registry["one_time_codes"] = otp.OneTimeCodes(settings)
    registry.registerUtility(person_registry.registry_from_settings(settings),
                             IPersonRegistry)
    source = spaces._certificate_source_factory(settings)
    registry.registerUtility(source(settings), spaces.ICertificateSource)
    registry.registerUtility(blobs.FileBlobStorage(settings["cabinet.blobs.path"]),
                             IBlobStorage)


def _handlers(registry):
    return {(h.handler, h.required, h.name) for h in registry.registeredHandlers()}


def application(settings):
    key = _app_key(settings)
    cached = _APPS.pop(key, None)
    if cached is None:
        cached = main({}, **settings)
        initial = dict(cached.registry.settings), _handlers(cached.registry)
    else:
        cached, initial = cached
        for handler in _handlers(cached.registry) - initial[1]:  # a test's subscriber
            cached.registry.unregisterHandler(*handler)
        renew_services(cached.registry,
                       {**initial[0], "cabinet.blobs.path": settings["cabinet.blobs.path"]})
    _APPS[key] = (cached, initial)
    while len(_APPS) > 6:
        _APPS.popitem(last=False)
    return cached


@pytest.fixture
def app(settings, engine):
    empty_tables(engine)
    application_ = application(settings)
    request = script_request(application_.registry)
    from cabinet.scripts.demo import ensure_site
    with request.tm:
        ensure_site(request)
    yield application_
    empty_tables(engine)


@pytest.fixture
def registry(app):
    return app.registry


@pytest.fixture
def clock(registry) -> FixedClock:
    from cabinet.interfaces import IClock
    return registry.getUtility(IClock)


def _snapshot(engine):
    with engine.connect() as conn:
        return [(table, [row._asdict() for row in conn.execute(
                    table.select().order_by(*table.primary_key.columns))])
                for table in Base.metadata.sorted_tables]


def _restore(engine, tables):
    empty_tables(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # self and cyclic references
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table, rows in tables:
            if rows:
                conn.execute(table.insert(), rows)


@pytest.fixture
def demo(app, engine, tmp_path_factory):
    """The demo data, loaded once per worker and settings, then restored from a copy
    of its rows and blobs (loading it signs PDFs and hashes passwords)."""
    from cabinet.interfaces import IClock
    from cabinet.scripts.demo import load_demo
    blobs = Path(app.registry.settings["cabinet.blobs.path"])
    key = (_app_key(app.registry.settings), app.registry.getUtility(IClock).now())
    saved = _DEMOS.get(key)
    if saved is None:
        request = script_request(app.registry)
        with request.tm:
            load_demo(request)
        copy = tmp_path_factory.mktemp("demo-blobs")
        if blobs.exists():
            shutil.copytree(blobs, copy, dirs_exist_ok=True)
        _DEMOS[key] = (_snapshot(engine), copy)
    else:
        tables, copy = saved
        _restore(engine, tables)
        shutil.copytree(copy, blobs, dirs_exist_ok=True)
    return app


@pytest.fixture
def db(app):
    """Run code in a committed transaction: ``with db() as request: ...``."""
    from contextlib import contextmanager

    @contextmanager
    def run():
        request = script_request(app.registry)
        with request.tm:
            yield request
    return run


@pytest.fixture
def testapp(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                               "REMOTE_ADDR": "127.0.0.1"})


def login(testapp, login_name, password="demo"):
    """Log in through the HTML form, as a person would."""
    form = testapp.get("/login").forms[0]
    form["login"] = login_name
    form["password"] = password
    response = form.submit()
    assert response.status_int == 303, response.text[:500]
    return response


LEA = {"phone": "+352 621 123 456", "last_name": "Leroy", "first_name": "Léa",
       "birth_date": "1990-04-12"}


def patient_token(testapp, registry, who=LEA):
    """Log in as a person of the cabinet directory (phone, names, birth date, SMS
    code), as the patient app does."""
    import re
    from cabinet.interfaces import ISmsGateway
    challenge = testapp.post_json("/@patient-login", who).json["challenge"]
    text = registry.getUtility(ISmsGateway).outbox[-1]["text"]
    code = re.search(r"\b(\d{6})\b", text).group(1)
    return testapp.post_json("/@patient-login/verify", {
        "challenge": challenge, "code": code}).json["token"]


@pytest.fixture
def martin(demo, api):
    """dr.martin, the demo's professional: a JSON client with his bearer token."""
    return api("dr.martin")


@pytest.fixture
def admin(demo, api):
    """admin, the demo cabinet's administrator (and site administrator): a JSON
    client with a bearer token."""
    return api("admin")


@pytest.fixture
def lea_api(demo, testapp, registry):
    """Léa Leroy (patient, and Hugo's guardian) logged in by SMS code, as the patient
    app does: a JSON client with her bearer token."""
    return Api(testapp, patient_token(testapp, registry))


@pytest.fixture
def lea_page(demo, testapp, registry):
    """Léa Leroy on the pages: her directory account (Hugo's guardian too) made by the
    patient login, then a session of the login form."""
    patient_token(testapp, registry)
    login(testapp, "p.leroy")
    return testapp


def last_form(page):
    """The last form of a page's content: the footer's language switcher aside."""
    forms = [page.forms[i] for i in range(len(page.forms)) if i in page.forms]
    return [f for f in forms if not f.action.endswith("/@@language")][-1]


def api_token(testapp, login_name, password="demo"):
    response = testapp.post_json("/@login", {"login": login_name, "password": password})
    return response.json["token"]


class Api:
    """A JSON client with a bearer token."""

    def __init__(self, testapp, token):
        self.testapp = testapp
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(self, url, **kw):
        return self.testapp.get(url, headers=self.headers, **kw)

    def post(self, url, body=None, **kw):
        return self.testapp.post_json(url, body or {}, headers=self.headers, **kw)

    def patch(self, url, body, **kw):
        return self.testapp.patch_json(url, body, headers=self.headers, **kw)

    def delete(self, url, **kw):
        return self.testapp.delete(url, headers=self.headers, **kw)


@pytest.fixture
def api(testapp):
    """``api('dr.martin')`` -> a JSON client logged in as that demo user."""
    def make(login_name, password="demo"):
        return Api(testapp, api_token(testapp, login_name, password))
    return make


def add_other_cabinet(db):
    """Another cabinet, /cabinets/autre, with its own staff member 'sec.autre' (the
    terms accepted): its login."""
    from cabinet.content import add_node
    from cabinet.interfaces import IClock
    from cabinet.models import LocalRole, TermsVersion, User
    from cabinet.resources import get_root
    from cabinet.terms import accept_for_all_users
    from sqlalchemy import select
    with db() as request:
        session = request.dbsession
        user = User(login="sec.autre", fullname="Secrétaire Autre",
                    password_hash=session.scalar(select(User.password_hash).where(
                        User.login == "dr.martin")))
        session.add(user)
        session.flush()
        cabinet = add_node(session, request.registry, get_root(request)["cabinets"],
                           "Cabinet", name="autre", title="Autre cabinet")
        session.add(LocalRole(node_id=cabinet.id, principal=user.principal, role="staff"))
        terms = session.scalar(select(TermsVersion))
        accept_for_all_users(session, terms, request.registry.getUtility(IClock).now())
    return "sec.autre"
