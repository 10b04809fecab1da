"""Delegations under a hypothesis stateful test (issue #6, D3-D5): dr.martin adds,
ends, cancels and re-dates delegations to his secretary while the clock moves on, in
any order hypothesis finds. A model follows the delegations; after every step:

- the secretary reaches dr.martin's patient exactly when one of the delegations is
  in effect: active, and today within its dates (a delegation past its end date
  grants nothing, even before the worker expires it);
- each request answers what the model says (a start in the past, an end before the
  start or in the past: 422; a second live delegation for the same person: 409),
  never a 5xx;
- each state change has exactly one history row, and the rows chain.

CABINET_HYPOTHESIS_EXAMPLES sets the number of examples.
"""
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from cabinet.models import Delegation
from tests.conftest import api_token
from tests.reliability.helpers import history_agrees_with_states, tallied
from tests.reliability.test_workflow_state_machine import EXAMPLES

DELEGATIONS = "/professionals/martin/delegations"
PATIENT = "/cabinets/parc/patients/leroy"
DUPONT = "1988051704221"          # sec.dupont's matricule (cabinet/data/registry.csv)
START = datetime(2026, 3, 10, 9, 0)
REFUSED = (403, 404, 409, 422)
#: tokens live 12 hours of the clock's time: a new one after this much
TOKEN_AGE = timedelta(hours=6)


def test_delegation_state_machine(demo, testapp, clock, engine):
    seen = {"requests": 0, "statuses": {}, "examples": 0}

    class SecretaryDelegation(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            seen["examples"] += 1
            clock.set(START)
            self.tokens = {}
            # the secretary's live delegations (the demo's, or an earlier example's)
            # end first: each example starts with none
            with engine.connect() as conn:
                live = conn.scalars(select(Delegation.path).where(
                    Delegation.matricule == DUPONT,
                    Delegation.state.in_(("invited", "active")))).all()
            for path in live:
                self.call("post", "dr.martin", path.rstrip("/") + "/@workflow/cancel",
                          status=200)
            self.delegations = []

        # -- requests ---------------------------------------------------------------------

        def headers(self, login_name):
            token, issued = self.tokens.get(login_name, (None, None))
            if token is None or clock.now() - issued > TOKEN_AGE:
                token, issued = api_token(testapp, login_name), clock.now()
                self.tokens[login_name] = (token, issued)
            return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

        def call(self, method, login_name, url, body=None, status="*"):
            send = getattr(testapp, f"{method}_json") if method != "get" else testapp.get
            kwargs = {"headers": self.headers(login_name), "status": status}
            response = send(url, body or {}, **kwargs) if method != "get" \
                else send(url, **kwargs)
            return tallied(seen, response)

        def today(self):
            return clock.now().date()

        def pick(self, index):
            return self.delegations[::-1][index % len(self.delegations)] \
                if self.delegations else None

        # -- rules ----------------------------------------------------------------------

        @rule(start=st.integers(-1, 4), length=st.one_of(st.none(), st.integers(-1, 5)))
        def add(self, start, length):
            start_date = self.today() + timedelta(days=start)
            end_date = start_date + timedelta(days=length) if length is not None else None
            response = self.call("post", "dr.martin", DELEGATIONS, {
                "@type": "Delegation", "matricule": DUPONT, "email": "dupont@parc.example",
                "start_date": start_date.isoformat(),
                "end_date": end_date.isoformat() if end_date else None})
            live = [d for d in self.delegations if d["state"] in ("invited", "active")]
            if start < 0 or (length is not None and length < 0):
                assert response.status_int == 422, response.text[:300]
            elif live:
                assert response.status_int == 409, response.text[:300]
            else:
                assert response.status_int == 201, response.text[:300]
                assert response.json["review_state"] == "active"   # she has an account
                path = response.json["@id"].split("localhost", 1)[1]
                self.delegations.append({"path": path, "state": "active",
                                         "start": start_date, "end": end_date})

        @rule(index=st.integers(0, 5), transition=st.sampled_from(("end", "cancel")))
        def end_or_cancel(self, index, transition):
            delegation = self.pick(index)
            if delegation is None:
                return
            response = self.call("post", "dr.martin",
                                 f"{delegation['path']}/@workflow/{transition}")
            if delegation["state"] in ("invited", "active"):
                assert response.status_int == 200, response.text[:300]
                delegation["state"] = "ended"
                if transition == "end" and (delegation["end"] is None
                                            or delegation["end"] > self.today()):
                    delegation["end"] = self.today()        # ended by hand: today
            else:
                assert response.status_int in REFUSED, response.status

        @rule(index=st.integers(0, 5), offset=st.integers(-1, 5))
        def set_end_date(self, index, offset):
            delegation = self.pick(index)
            if delegation is None:
                return
            end = self.today() + timedelta(days=offset)
            response = self.call("patch", "dr.martin", delegation["path"],
                                 {"end_date": end.isoformat()})
            if delegation["state"] != "active":
                assert response.status_int in REFUSED, response.status
            elif offset < 0 or end < delegation["start"]:
                assert response.status_int == 422, response.text[:300]
                assert response.json["field"] == "end_date"
            else:
                assert response.status_int == 200, response.text[:300]
                assert response.json["end_date"] == end.isoformat()
                delegation["end"] = end

        @rule(hours=st.sampled_from((1, 8, 15, 24, 47)))
        def time_passes(self, hours):
            clock.set(clock.now() + timedelta(hours=hours))

        # -- what must hold after each step ---------------------------------------------

        def in_effect(self, today: date):
            return any(d["state"] == "active" and d["start"] <= today
                       and (d["end"] is None or today <= d["end"])
                       for d in self.delegations)

        @invariant()
        def the_secretary_reaches_the_patient_only_within_the_dates(self):
            response = self.call("get", "sec.dupont", PATIENT)
            expected = 200 if self.in_effect(self.today()) else 403
            assert response.status_int == expected, (
                self.today(), self.delegations, response.status)

        @invariant()
        def database_agrees_with_the_model(self):
            with engine.connect() as conn:
                rows = {path.rstrip("/"): (state, start, end) for path, state, start, end
                        in conn.execute(select(Delegation.path, Delegation.state,
                                               Delegation.start_date, Delegation.end_date)
                                        .where(Delegation.path.in_(
                                            [d["path"] + "/" for d in self.delegations])))}
                assert rows == {d["path"]: (d["state"], d["start"], d["end"])
                                for d in self.delegations}
                assert history_agrees_with_states(conn, DELEGATIONS + "/") == []

    run_state_machine_as_test(SecretaryDelegation, settings=hsettings(
        max_examples=EXAMPLES, stateful_step_count=10, deadline=None,
        suppress_health_check=list(HealthCheck)))
    print(f"\nhypothesis: {seen['examples']} examples, {seen['requests']} requests, "
          f"answers {dict(sorted(seen['statuses'].items()))}")
    assert seen["examples"] >= EXAMPLES
