"""The number of SQL statements a page costs, so that a change which adds a query to
every request (a look-up per request, a lazy load in the security policy) fails here
rather than only in bench/views.py.

A document seen by its professional costs: the user with their identity facts (one
query), the document's lineage with the local roles on each node (one query) and, for
the page, its history with the people named in it (one query)."""
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.conftest import login

DOCUMENT = "/cabinets/parc/patients/leroy/documents/consentement"


@contextmanager
def statements(engine):
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def selects(seen):
    """The statements that read or write data (not BEGIN/COMMIT/SAVEPOINT)."""
    return [s for s in seen if s.lstrip().split(None, 1)[0].upper()
            in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")]


@pytest.fixture
def db_engine(demo):
    return demo.registry["db_engine"]


def test_document_json_costs_two_queries(db_engine, api):
    client = api("dr.martin")
    with statements(db_engine) as seen:
        response = client.get(DOCUMENT)
    assert response.json["review_state"] == "sent"
    assert len(selects(seen)) == 2, "\n\n".join(selects(seen))


def test_document_page_costs_three_queries(db_engine, testapp):
    login(testapp, "dr.martin")
    with statements(db_engine) as seen:
        page = testapp.get(DOCUMENT)
    assert "Consentement éclairé" in page.text
    assert len(selects(seen)) == 3, "\n\n".join(selects(seen))


def test_secretary_costs_the_delegation_look_up_only_when_needed(db_engine, api):
    """sec.dupont acts for dr.martin: the delegation is read (with the professional)
    only because the secretary's own roles do not grant the view."""
    client = api("sec.dupont")
    with statements(db_engine) as seen:
        response = client.get(DOCUMENT)
    assert response.json["review_state"] == "sent"
    own_queries = 2
    assert own_queries < len(selects(seen)) <= own_queries + 4, "\n\n".join(selects(seen))


def test_an_unaccepted_terms_version_still_stops_the_user(db_engine, api, db):
    """The terms check reads no table of its own; a newly published version must still
    stop the next request of a user who has not accepted it."""
    from cabinet.terms import publish

    client = api("dr.martin")
    with db() as request:
        publish(request, "2099-01", "Nouvelles conditions.")
    response = client.get(DOCUMENT, status=403)
    assert response.json["type"] == "TermsNotAccepted"
    assert "2099-01" in response.json["message"]


def test_a_page_view_does_not_resend_the_session_cookie(demo, testapp):
    """Reading a page changes nothing in the session: no new signed cookie is sent
    (the flash queue is only popped when it holds a message)."""
    login(testapp, "dr.martin")
    page = testapp.get(DOCUMENT)
    assert "Consentement éclairé" in page.text
    assert "Set-Cookie" not in page.headers


def test_the_lineage_reads_only_the_subtype_tables_its_path_names(db_engine, api):
    """The document's lineage joins the cabinet, patient and document tables, not
    the other nine subtype tables whose columns would all be empty (cabinet.resources:
    on SQLite each column read costs a hand-over of the GIL)."""
    client = api("dr.martin")
    with statements(db_engine) as seen:
        client.get(DOCUMENT)
    lineage = next(s for s in selects(seen) if "local_roles" in s and "nodes.path IN" in s)
    joined = set(re.findall(r"JOIN (\w+) ON", lineage))
    assert joined == {"cabinets", "patients", "documents"}, lineage


def test_a_node_of_another_type_than_its_folder_holds_still_loads_whole(demo, db, api):
    """The path says which subtype tables to join; a node that is not of the type its
    place suggests (here a document straight under the cabinet) loads as its own
    class all the same, its own fields read on first use."""
    from cabinet.content import add_node
    from cabinet.models import Node

    with db() as request:
        cabinet = request.dbsession.query(Node).filter_by(path="/cabinets/parc/").one()
        add_node(request.dbsession, request.registry, cabinet, "Document", name="stray",
                 title="Égaré", description="Posé au mauvais endroit")
    document = api("admin").get("/cabinets/parc/stray").json
    assert document["@type"] == "Document"
    assert document["description"] == "Posé au mauvais endroit"
