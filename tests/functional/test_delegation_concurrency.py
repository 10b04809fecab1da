"""Delegations under concurrent requests, through a real waitress server (D2, D3).

- Two requests add the same secretary (same professional, same matricule) at the same
  instant: exactly one creates the delegation (201), the other gets 409 saying the
  person already has a delegation; the database holds one live delegation, one
  invitation mail goes out.
- Two people use the same invitation link at the same instant (each from their own
  browser session, with different logins): exactly one account is created (303 to the
  login page), the other gets 409 saying the link has been used; the database holds one
  account for the matricule and the delegation names it.

Both races lock one row before checking (cabinet.locks): the professional's for the
first, the delegation's for the second. Run on SQLite and on PostgreSQL
(CABINET_TEST_DB=postgresql)."""
import http.client
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from pyramid_mailer.interfaces import IMailer
from sqlalchemy import delete, func, select, update

from cabinet.models import Delegation, HistoryEntry, LocalRole, Node, User
from cabinet.security import token_hash
from tests.live import TIMEOUT, login, race, race_raw, request, serving

ROUNDS = 5
DELEGATIONS = "/professionals/martin/delegations"
SCHMIT = "1990063047606"          # Marc Schmit: in the registry, no account
TOKEN = "a-test-invitation-token-" + "x" * 24


def body(**kw):
    data = {"@type": "Delegation", "matricule": SCHMIT, "email": "marc@parc.example",
            "start_date": "2026-03-10", "end_date": None, "can_sign": False}
    data.update(kw)
    return data


def live_delegations(engine, matricule=SCHMIT):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Delegation).where(
            Delegation.matricule == matricule,
            Delegation.state.in_(("invited", "active"))))


def forget_delegations(engine, matricule=SCHMIT):
    """Delete the delegations for ``matricule`` and the accounts holding it."""
    with engine.begin() as conn:
        ids = list(conn.scalars(select(Delegation.id).where(
            Delegation.matricule == matricule)))
        if ids:
            conn.execute(delete(Node).where(Node.id.in_(ids)))
        for user_id in conn.scalars(select(User.id).where(User.matricule == matricule)):
            conn.execute(delete(LocalRole).where(LocalRole.principal == f"user:{user_id}"))
            conn.execute(update(HistoryEntry).where(HistoryEntry.actor_id == user_id)
                         .values(actor_id=None))
            conn.execute(delete(User).where(User.id == user_id))


@pytest.fixture
def server(demo):
    with serving(demo) as address:
        yield address


def test_two_requests_add_the_same_secretary_at_once(server, demo, engine):
    token = login(server, "dr.martin")
    outbox = demo.registry.getUtility(IMailer).outbox
    call = ("POST", DELEGATIONS, body(), token)
    for round_ in range(ROUNDS):
        forget_delegations(engine)
        outbox.clear()
        results = race(server, [call, call])
        assert not [r for r in results if r[0] is None or r[0] >= 500], results
        statuses = sorted(status for status, _ in results)
        assert statuses == [201, 409], (round_, results)
        refused = next(b for s, b in results if s == 409)
        assert "déjà une délégation invitée ou active" in refused["message"], refused
        assert refused["errors"]["matricule"], refused
        created = next(b for s, b in results if s == 201)
        assert created["review_state"] == "invited"
        assert live_delegations(engine) == 1, round_
        assert len(outbox) == 1, (round_, [m.subject for m in outbox])


def test_the_same_secretary_for_two_professionals_at_once(server, engine):
    """The lock is per professional: the same person added at once to two different
    professionals gets both delegations."""
    martin, weber = login(server, "dr.martin"), login(server, "dr.weber")
    forget_delegations(engine)
    results = race(server, [("POST", DELEGATIONS, body(), martin),
                            ("POST", "/professionals/weber/delegations", body(), weber)])
    assert sorted(s for s, _ in results) == [201, 201], results
    assert live_delegations(engine) == 2


# -- the invitation link --------------------------------------------------------------

def reset_invitation(engine, delegation_id, matricule=SCHMIT, token=TOKEN):
    """The delegation invited again, its link ``token`` valid, no account for the
    person of ``matricule``."""
    with engine.begin() as conn:
        for user_id in conn.scalars(select(User.id).where(User.matricule == matricule)):
            conn.execute(delete(LocalRole).where(LocalRole.principal == f"user:{user_id}"))
            conn.execute(update(HistoryEntry).where(HistoryEntry.actor_id == user_id)
                         .values(actor_id=None))
            conn.execute(update(Delegation).where(Delegation.delegate_id == user_id)
                         .values(delegate_id=None))
            conn.execute(delete(User).where(User.id == user_id))
        conn.execute(update(Node).where(Node.id == delegation_id).values(state="invited"))
        conn.execute(update(Delegation).where(Delegation.id == delegation_id).values(
            invitation_hash=token_hash(token), delegate_id=None,
            invitation_expires=datetime(2026, 3, 10, 9, 0) + timedelta(days=7)))
        conn.execute(delete(HistoryEntry).where(HistoryEntry.node_id == delegation_id,
                                                HistoryEntry.action == "transition"))


def browser_form(address, path):
    """GET the invitation page as a new visitor: (session cookie, csrf token)."""
    connection = http.client.HTTPConnection(*address, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        text = response.read().decode("utf-8")
        assert response.status == 200, text[:500]
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    finally:
        connection.close()
    csrf = re.search(r'name="csrf_token"\s+value="([^"]+)"', text).group(1)
    return cookie, csrf


def race_forms(address, path, forms):
    """POST ``forms`` ((cookie, fields) pairs) to ``path`` at the same instant;
    [(status, page text)]."""
    results = race_raw(address, [
        ("POST", path, urlencode(fields).encode("ascii"),
         {"Cookie": cookie, "Accept": "text/html",
          "Content-Type": "application/x-www-form-urlencoded"})
        for cookie, fields in forms])
    return [(status, data.decode("utf-8", "replace")) for status, data in results]


def test_two_people_use_one_invitation_link_at_once(server, engine):
    status, created = request(server, "POST", DELEGATIONS, body(),
                              login(server, "dr.martin"))
    assert status == 201 and created["review_state"] == "invited", created
    with engine.connect() as conn:
        delegation_id = conn.scalar(select(Delegation.id).where(
            Delegation.matricule == SCHMIT))
    path = f"/@@invitation/{TOKEN}"
    for round_ in range(ROUNDS):
        reset_invitation(engine, delegation_id)
        forms = []
        for login_name in ("marc.schmit", "m.schmit"):
            cookie, csrf = browser_form(server, path)
            forms.append((cookie, {"csrf_token": csrf, "login": login_name,
                                   "fullname": "Marc Schmit", "password": "un mot de passe",
                                   "password_confirm": "un mot de passe"}))
        results = race_forms(server, path, forms)
        assert not [r for r in results if r[0] is None or r[0] >= 500], results
        statuses = sorted(status for status, _ in results)
        assert statuses == [303, 409], (round_, [(s, t[:300]) for s, t in results])
        refused = next(text for status, text in results if status == 409)
        assert "déjà été utilisé" in refused, refused
        with engine.connect() as conn:
            accounts = list(conn.execute(select(User.id, User.login).where(
                User.matricule == SCHMIT)))
            assert len(accounts) == 1, (round_, accounts)
            state, delegate_id = conn.execute(
                select(Delegation.state, Delegation.delegate_id)
                .where(Delegation.id == delegation_id)).one()
            assert (state, delegate_id) == ("active", accounts[0].id)
            accepts = conn.scalar(select(func.count()).select_from(HistoryEntry).where(
                HistoryEntry.node_id == delegation_id, HistoryEntry.transition == "accept"))
            assert accepts == 1, round_


FERREIRA = "1999041675580"        # Léon Ferreira: in the registry, no account


def test_two_invitations_accepted_at_once_with_one_login(server, engine):
    """Two different invitations (two people), accepted at the same instant with the
    same login: each passes the "login free" check alone, the unique index decides,
    and the second person is told to choose another login (409, never a 500)."""
    token = login(server, "dr.martin")
    ids = {}
    for matricule in (SCHMIT, FERREIRA):
        status, created = request(server, "POST", DELEGATIONS,
                                  body(matricule=matricule,
                                       email=f"{matricule}@parc.example"), token)
        assert status == 201, created
        with engine.connect() as conn:
            ids[matricule] = conn.scalar(select(Delegation.id).where(
                Delegation.matricule == matricule))
    tokens = {SCHMIT: TOKEN, FERREIRA: TOKEN.replace("a-test", "b-test")}
    for round_ in range(ROUNDS):
        for matricule in (SCHMIT, FERREIRA):
            reset_invitation(engine, ids[matricule], matricule, tokens[matricule])
        forms, paths = [], []
        for matricule in (SCHMIT, FERREIRA):
            path = f"/@@invitation/{tokens[matricule]}"
            cookie, csrf = browser_form(server, path)
            paths.append(path)
            forms.append((cookie, {"csrf_token": csrf, "login": "m.same",
                                   "fullname": "Même identifiant",
                                   "password": "un mot de passe",
                                   "password_confirm": "un mot de passe"}))
        results = race_raw(server, [
            ("POST", path, urlencode(fields).encode("ascii"),
             {"Cookie": cookie, "Accept": "text/html",
              "Content-Type": "application/x-www-form-urlencoded"})
            for path, (cookie, fields) in zip(paths, forms)])
        assert not [r for r in results if r[0] is None or r[0] >= 500], results
        # the second is refused either by the check (it ran after the first commit:
        # the form again, 400) or by the unique index (both checked at once: 409)
        statuses = sorted(status for status, _ in results)
        assert statuses[0] == 303 and statuses[1] in (400, 409), (round_, statuses)
        refused = next(data.decode() for status, data in results if status != 303)
        assert "Cet identifiant est déjà pris" in refused
        with engine.connect() as conn:
            holders = conn.scalar(select(func.count()).select_from(User)
                                  .where(User.login == "m.same"))
            assert holders == 1, round_
