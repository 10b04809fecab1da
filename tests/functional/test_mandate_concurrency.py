"""One live holder code per mandant and domain, under concurrent creations, through a
real waitress server (S4).

Two requests of the mandant's administrator create a mandate for the same domain at
the same instant. The mandates folder is locked before the live mandates are read
(cabinet.locks), so the second waits for the first, then supersedes its mandate: both
answer 201 with a code, and exactly one mandate (and so one code) stays live for the
domain; the superseded code is refused when the provider enters it. Run on SQLite and
on PostgreSQL (CABINET_TEST_DB=postgresql)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from cabinet.models import HistoryEntry, Mandate, Node
from tests.live import login, race, request, serving

ROUNDS = 5
TODAY = date(2026, 3, 10)        # the test clock (conftest settings)
MANDATES = "/spaces/sante-services/mandates"


def new_mandate(domain):
    return {"@type": "Mandate", "provider": "fidu-conseil", "domain": domain,
            "activation_deadline": (TODAY + timedelta(days=10)).isoformat(),
            "end_date": (TODAY + timedelta(days=100)).isoformat()}


def mandates(engine, domain):
    """{state: count} of the mandant's mandates for ``domain``."""
    with engine.connect() as conn:
        return dict(conn.execute(
            select(Mandate.state, func.count()).where(
                Mandate.path.startswith(MANDATES + "/"), Mandate.domain == domain)
            .group_by(Mandate.state)).all())


def forget(engine, domain):
    with engine.begin() as conn:
        ids = list(conn.scalars(select(Mandate.id).where(
            Mandate.path.startswith(MANDATES + "/"), Mandate.domain == domain)))
        if ids:
            conn.execute(delete(HistoryEntry).where(HistoryEntry.node_id.in_(ids)))
            conn.execute(delete(Node).where(Node.id.in_(ids)))


@pytest.fixture
def settings(settings):
    """Each round tries the superseded code once: no try limit in the way."""
    return {**settings, "cabinet.ratelimit.mandate.activation": "1000/hour"}


@pytest.fixture
def server(demo):
    with serving(demo) as address:
        yield address


@pytest.mark.parametrize("domain", ["documents", "facturation"])
def test_two_creations_for_one_domain_leave_one_live_code(server, engine, domain):
    """``documents``: no mandate before; ``facturation``: the demo's active mandate,
    superseded by the first creation, whose mandate the second supersedes."""
    weber = login(server, "dr.weber")
    fidu = login(server, "fidu.admin")
    call = ("POST", MANDATES, new_mandate(domain), weber)
    for round_ in range(ROUNDS):
        if domain == "documents" or round_ > 0:
            forget(engine, domain)
        before = sum(mandates(engine, domain).values())
        results = race(server, [call, call])
        assert not [r for r in results if r[0] is None or r[0] >= 500], results
        statuses = sorted(status for status, _ in results)
        # both created (the second superseding the first), or the second refused
        assert statuses in ([201, 201], [201, 409]), (round_, results)
        states = mandates(engine, domain)
        assert states.get("invited", 0) == 1 and "active" not in states, (round_, states)
        assert sum(states.values()) == before + statuses.count(201), (round_, states)
        codes = [body["activation_code"] for status, body in results if status == 201]
        live = [c for c in codes if request(
            server, "POST", "/spaces/fidu-conseil/@activate-mandate", {"code": c},
            fidu)[0] == 200]
        assert len(live) == 1, (round_, codes)
        assert mandates(engine, domain) == {"active": 1, **(
            {"ended": states["ended"]} if "ended" in states else {})}
        if len(codes) == 2:
            # the one superseded says why, in its history
            with engine.connect() as conn:
                comments = list(conn.scalars(select(HistoryEntry.comment).join(
                    Mandate, Mandate.id == HistoryEntry.node_id).where(
                    Mandate.domain == domain, HistoryEntry.transition == "revoke")))
            assert any("un seul code titulaire actif par domaine" in c for c in comments)
