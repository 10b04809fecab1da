"""The document workflow under a hypothesis stateful test (issue #6): principals
(two professionals, the secretary, the patient, the cabinet's administrator) fire
transitions, edit titles and replace files of documents through the JSON API, in
any order hypothesis finds. A model follows what must happen; after every step the
database must agree with it:

- a request answers 200 only where the workflow allows it (the state is a source of
  the transition, the principal holds its permission, its guards pass); a refused one
  changes nothing and a 409 names the current state; never a 5xx;
- each state change has exactly one history row, and the rows chain;
- each change of a document (transition, edit, new file) adds one to its version and
  one history row;
- a signed document never changes again (title, file, state), and has one signature.

CABINET_HYPOTHESIS_EXAMPLES sets the number of examples (default below).
"""
import os
import uuid

import pytest
from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from cabinet.models import Document, HistoryEntry, Signature
from cabinet.sample_files import make_pdf
from tests.conftest import api_token
from tests.reliability.helpers import LEROY_DOCS, history_agrees_with_states, tallied

#: per state machine and database: the three machines (documents, spaces, delegations)
#: on SQLite and PostgreSQL make 510 examples per CI run
EXAMPLES = int(os.environ.get("CABINET_HYPOTHESIS_EXAMPLES", "85"))
PRINCIPALS = ("dr.martin", "dr.weber", "sec.dupont", "p.leroy", "admin")
STAFF = {"dr.martin", "dr.weber", "admin"}      # the cabinet's administrator, professionals
SOURCES = {"send": {"pending", "withdrawn"}, "withdraw": {"sent"}, "sign": {"sent"}}
TARGETS = {"send": "sent", "withdraw": "withdrawn", "sign": "signed"}


class AcceptingCodes:
    """Stands in for the one-time-code service: every code is right."""

    def verify(self, request, context, purpose):
        return None


@pytest.fixture
def accepting_codes(demo):
    """Every one-time code is right, for this test only (the app may be reused)."""
    previous = demo.registry.get("one_time_codes")
    demo.registry["one_time_codes"] = AcceptingCodes()
    yield
    demo.registry["one_time_codes"] = previous


def test_document_workflow_state_machine(demo, accepting_codes, testapp, engine):
    headers = {login: {"Authorization": f"Bearer {api_token(testapp, login)}",
                       "Accept": "application/json"} for login in PRINCIPALS}
    seen = {"requests": 0, "statuses": {}, "examples": 0}

    class DocumentWorkflow(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            seen["examples"] += 1
            self.docs = {}
            for needs_signature in (True, False):
                title = f"Etat {uuid.uuid4().hex[:12]}"
                response = testapp.post(
                    LEROY_DOCS, params={"title": title, "document_type": "consentement",
                                        "needs_signature": str(needs_signature).lower()},
                    upload_files=[("file", "doc.pdf", make_pdf(title))],
                    headers=headers["dr.martin"], status=201)
                path = response.json["@id"].split("localhost", 1)[1]
                self.docs[path] = {"state": "pending", "version": 1, "transitions": 0,
                                   "needs_signature": needs_signature, "title": title,
                                   "sha256": response.json["sha256"], "signed": None}

        def answer(self, response):
            return tallied(seen, response)

        @rule(doc=st.integers(0, 1), transition=st.sampled_from(sorted(SOURCES)),
              who=st.sampled_from(PRINCIPALS))
        def fire(self, doc, transition, who):
            path = sorted(self.docs)[doc]
            model = self.docs[path]
            response = self.answer(testapp.post_json(
                f"{path}/@workflow/{transition}", {"comment": who}, headers=headers[who],
                status="*"))
            allowed = model["state"] in SOURCES[transition]
            if response.status_int == 200:
                assert allowed, (transition, model["state"], who)
                if transition == "sign":
                    assert who == "p.leroy" and model["needs_signature"], who
                else:
                    assert who != "p.leroy", who
                model["state"] = TARGETS[transition]
                model["version"] += 1
                model["transitions"] += 1
                assert response.json["review_state"] == model["state"]
                if transition == "sign":
                    # the document now names the PDF signed with the cabinet's key
                    with engine.connect() as conn:
                        signed = conn.scalar(select(Document.blob_sha256).where(
                            Document.path == path + "/"))
                    model["sha256"] = signed or model["sha256"]
                    model["signed"] = (model["title"], model["sha256"])
                return
            # what must succeed
            if allowed and transition != "sign" and who == "dr.martin":
                raise AssertionError(f"{who} could not {transition} from {model['state']}:"
                                     f" {response.status} {response.text[:300]}")
            if allowed and transition == "sign" and who == "p.leroy" \
                    and model["needs_signature"]:
                raise AssertionError(f"the patient could not sign: {response.text[:300]}")
            if response.status_int == 409 and "review_state" in response.json:
                assert response.json["review_state"] == model["state"], response.json

        @rule(doc=st.integers(0, 1), who=st.sampled_from(PRINCIPALS))
        def edit_title(self, doc, who):
            path = sorted(self.docs)[doc]
            model = self.docs[path]
            title = f"Titre {uuid.uuid4().hex[:8]}"
            response = self.answer(testapp.patch_json(path, {"title": title},
                                                      headers=headers[who], status="*"))
            if response.status_int == 200:
                assert model["state"] == "pending", model["state"]
                assert who != "p.leroy"
                model["title"] = title
                model["version"] += 1
            elif model["state"] == "pending" and who in STAFF:
                raise AssertionError(f"{who} could not edit: {response.text[:300]}")
            if model["state"] == "signed":
                assert response.status_int in (403, 404, 409), response.status

        @rule(doc=st.integers(0, 1), who=st.sampled_from(("dr.martin", "p.leroy")))
        def replace_file(self, doc, who):
            path = sorted(self.docs)[doc]
            model = self.docs[path]
            data = make_pdf(uuid.uuid4().hex)
            response = self.answer(testapp.post(
                f"{path}/@@file", upload_files=[("file", "v2.pdf", data)],
                headers=headers[who], status="*"))
            if response.status_int == 200:
                assert model["state"] == "pending" and who == "dr.martin", model["state"]
                model["sha256"] = response.json["sha256"]
                model["version"] += 1
            elif model["state"] == "pending" and who == "dr.martin":
                raise AssertionError(f"could not replace the file: {response.text[:300]}")

        @invariant()
        def database_agrees_with_the_model(self):
            with engine.connect() as conn:
                for path, model in self.docs.items():
                    node_id, state, version, title, sha256 = conn.execute(
                        select(Document.id, Document.state, Document.version,
                               Document.title, Document.blob_sha256)
                        .where(Document.path == path + "/")).one()
                    assert (state, version) == (model["state"], model["version"]), path
                    assert (title, sha256) == (model["title"], model["sha256"]), path
                    rows = dict(conn.execute(
                        select(HistoryEntry.action, func.count())
                        .where(HistoryEntry.node_id == node_id)
                        .group_by(HistoryEntry.action)).all())
                    assert rows.get("transition", 0) == model["transitions"], rows
                    assert rows.get("transition", 0) + rows.get("edit", 0) \
                        + rows.get("replace-file", 0) == version - 1, rows
                    signatures = conn.scalar(select(func.count()).select_from(Signature)
                                             .where(Signature.document_id == node_id))
                    if model["signed"] is not None:
                        assert (title, sha256) == model["signed"], "a signed document changed"
                        assert signatures == 1, signatures
                    else:
                        assert signatures == 0, signatures
                assert history_agrees_with_states(conn, LEROY_DOCS) == []

    run_state_machine_as_test(DocumentWorkflow, settings=hsettings(
        max_examples=EXAMPLES, stateful_step_count=12, deadline=None,
        suppress_health_check=list(HealthCheck)))
    print(f"\nhypothesis: {seen['examples']} examples, {seen['requests']} requests, "
          f"answers {dict(sorted(seen['statuses'].items()))}")
    assert seen["examples"] >= EXAMPLES
