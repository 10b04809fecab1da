"""Professional spaces under a hypothesis stateful test (issue #6, S1-S3): three people
invite, accept, change roles and remove members of a space through the JSON API, in
any order hypothesis finds. A model follows who may do what; after every step the
database must agree with it:

- the space always keeps at least one active administrator;
- a request succeeds exactly where the model says it may (an active administrator,
  or the secretary of one, invites, changes roles and removes; only the holder of the certificate accepts;
  the last active administrator can be neither removed nor demoted), never a 5xx;
- the local roles on the space are exactly those of its active members;
- each state change has exactly one history row, and the rows chain.

Each example starts from a new space whose only member is dr.weber, its active
administrator. CABINET_HYPOTHESIS_EXAMPLES sets the number of examples.
"""
import uuid

from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test,
)
from sqlalchemy import select

from cabinet.content import add_node
from cabinet.models import LocalRole, Membership, Node, User
from tests.conftest import api_token
from tests.reliability.helpers import history_agrees_with_states, tallied
from tests.reliability.test_workflow_state_machine import EXAMPLES

CERTIFICATES = {"dr.weber": "12345678901234567890", "dr.martin": "98765432109876543210",
                "sec.dupont": "55556666777788889999"}
PEOPLE = tuple(CERTIFICATES)
#: the demo's delegation in effect: the secretary holds dr.martin's roles too (D5)
ACTS_FOR = {"sec.dupont": "dr.martin"}
ROLES = ("space_admin", "space_manager", "space_member")
REFUSED = (403, 404, 409)
#: the actor or person hypothesis may also ask for: an active administrator of the
#: space, the person a membership names (most random choices would only be refused)
AN_ADMIN, THE_INVITEE = "an active administrator", "the invitee"
ACTORS = st.sampled_from(PEOPLE + (AN_ADMIN, AN_ADMIN))


def new_space(db):
    """A space of its own for one example: dr.weber its only, active, administrator."""
    with db() as request:
        session = request.dbsession
        users = {u.login: u for u in session.scalars(select(User).where(
            User.login.in_(PEOPLE)))}
        for login_name, serial in CERTIFICATES.items():
            users[login_name].certificate_serial = serial
        spaces = session.scalar(select(Node).where(Node.path == "/spaces/"))
        space = add_node(session, request.registry, spaces, "Space",
                         name=f"etat-{uuid.uuid4().hex[:10]}", title="Espace d'essai")
        weber = users["dr.weber"]
        session.add(LocalRole(node_id=space.id, principal=weber.principal,
                              role="space_admin"))
        membership = add_node(session, request.registry, space["members"], "Membership",
                              name="weber", title="Dr Eva Weber", user_id=weber.id,
                              certificate=CERTIFICATES["dr.weber"], role="space_admin")
        membership.state = "active"
        session.flush()
        return space.path.rstrip("/"), {login: u.id for login, u in users.items()}


def test_space_membership_state_machine(demo, testapp, db, engine):
    headers = {login: {"Authorization": f"Bearer {api_token(testapp, login)}",
                       "Accept": "application/json"} for login in PEOPLE}
    seen = {"requests": 0, "statuses": {}, "examples": 0}

    class SpaceMembership(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            seen["examples"] += 1
            self.space, self.user_ids = new_space(db)
            self.members = self.space + "/members"
            # the model: one entry per membership, in creation order
            self.memberships = [{"path": f"{self.members}/weber", "person": "dr.weber",
                                 "role": "space_admin", "state": "active"}]

        # -- the model's view of who may do what -------------------------------------

        def holding(self, person):
            """The person's invited or active membership, or None."""
            return next((m for m in self.memberships if m["person"] == person
                         and m["state"] in ("invited", "active")), None)

        def is_admin(self, person):
            """An active administrator, or acting for one (a secretary, D5)."""
            held = self.holding(person)
            if held is not None and held["state"] == "active" \
                    and held["role"] == "space_admin":
                return True
            return person in ACTS_FOR and self.is_admin(ACTS_FOR[person])

        def last_admin(self, membership):
            active_admins = [m for m in self.memberships if m["state"] == "active"
                             and m["role"] == "space_admin"]
            return active_admins == [membership]

        def answer(self, response):
            return tallied(seen, response)

        def pick(self, index, state=None):
            """A membership, the newest first (of those in ``state`` when any is)."""
            candidates = [m for m in self.memberships if m["state"] == state] \
                or self.memberships
            return candidates[::-1][index % len(candidates)]

        def who(self, actor, membership=None):
            if actor == AN_ADMIN:
                return next(m["person"] for m in self.memberships
                            if m["state"] == "active" and m["role"] == "space_admin")
            if actor == THE_INVITEE:
                return membership["person"]
            return actor

        # -- rules ----------------------------------------------------------------------

        @rule(actor=ACTORS, person=st.sampled_from(PEOPLE), role=st.sampled_from(ROLES))
        def invite(self, actor, person, role):
            actor = self.who(actor)
            response = self.answer(testapp.post_json(
                self.members, {"@type": "Membership",
                               "certificate_serial": CERTIFICATES[person], "role": role},
                headers=headers[actor], status="*"))
            if not self.is_admin(actor):
                assert response.status_int in (403, 404), response.status
            elif self.holding(person) is not None:
                assert response.status_int == 409, response.text[:300]
            else:
                assert response.status_int == 201, response.text[:300]
                assert response.json["review_state"] == "invited"
                path = response.json["@id"].split("localhost", 1)[1]
                self.memberships.append({"path": path, "person": person, "role": role,
                                         "state": "invited"})

        @precondition(lambda self: any(m["state"] == "invited" for m in self.memberships))
        @rule(person=st.sampled_from(PEOPLE + (THE_INVITEE, THE_INVITEE)),
              index=st.integers(0, 20))
        def accept(self, person, index):
            membership = self.pick(index, "invited")
            person = self.who(person, membership)
            response = self.answer(testapp.post_json(
                membership["path"] + "/@accept", {}, headers=headers[person], status="*"))
            if membership["state"] == "invited" and membership["person"] == person:
                assert response.status_int == 200, response.text[:300]
                assert response.json["review_state"] == "active"
                membership["state"] = "active"
            else:
                assert response.status_int in REFUSED, response.status

        @rule(actor=ACTORS, index=st.integers(0, 20), role=st.sampled_from(ROLES))
        def change_role(self, actor, index, role):
            membership = self.pick(index)
            actor = self.who(actor)
            response = self.answer(testapp.patch_json(
                membership["path"], {"role": role}, headers=headers[actor], status="*"))
            allowed = (self.is_admin(actor) and membership["state"] != "ended"
                       and not (role != "space_admin" and self.last_admin(membership)))
            if allowed:
                assert response.status_int == 200, response.text[:300]
                assert response.json["role"] == role
                membership["role"] = role
            else:
                assert response.status_int in REFUSED, response.status
                if self.is_admin(actor) and membership["state"] == "active":
                    assert "au moins un administrateur actif" in response.json["message"]

        @rule(actor=ACTORS, index=st.integers(0, 20))
        def remove(self, actor, index):
            membership = self.pick(index)
            actor = self.who(actor)
            response = self.answer(testapp.post_json(
                membership["path"] + "/@workflow/remove", {}, headers=headers[actor],
                status="*"))
            if (self.is_admin(actor) and membership["state"] != "ended"
                    and not self.last_admin(membership)):
                assert response.status_int == 200, response.text[:300]
                assert response.json["review_state"] == "ended"
                membership["state"] = "ended"
            else:
                assert response.status_int in REFUSED, response.status

        # -- what the database must say after each step ---------------------------------

        @invariant()
        def database_agrees_with_the_model(self):
            with engine.connect() as conn:
                rows = {path.rstrip("/"): (state, role) for path, state, role in
                        conn.execute(select(Membership.path, Membership.state,
                                            Membership.role)
                                     .where(Membership.path.startswith(self.members + "/")))}
                assert rows == {m["path"]: (m["state"], m["role"])
                                for m in self.memberships}
                admins = [p for p, (state, role) in rows.items()
                          if state == "active" and role == "space_admin"]
                assert len(admins) >= 1, "the space has no active administrator"
                space_id = conn.scalar(select(Node.id).where(Node.path == self.space + "/"))
                roles = set(conn.execute(select(LocalRole.principal, LocalRole.role)
                                         .where(LocalRole.node_id == space_id)))
                assert roles == {(f"user:{self.user_ids[m['person']]}", m["role"])
                                 for m in self.memberships if m["state"] == "active"}
                assert history_agrees_with_states(conn, self.members + "/") == []

    run_state_machine_as_test(SpaceMembership, settings=hsettings(
        max_examples=EXAMPLES, stateful_step_count=12, deadline=None,
        suppress_health_check=list(HealthCheck)))
    print(f"\nhypothesis: {seen['examples']} examples, {seen['requests']} requests, "
          f"answers {dict(sorted(seen['statuses'].items()))}")
    assert seen["examples"] >= EXAMPLES
