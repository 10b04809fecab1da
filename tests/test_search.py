"""``@search``: what each user may view, filtered, sorted, batched and counted in SQL.

The listing must return exactly the nodes the per-object permission check allows
(shown for the demo users, and for random trees by a property test), count them
exactly up to 10,000, and use an index on the database it runs on.
"""
import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pyramid.threadlocal import manager
from sqlalchemy import event, insert, select

from cabinet.content import add_node
from cabinet.interfaces import IClock
from cabinet.models import (
    ApiToken, Delegation, Document, Group, GroupMember, LocalRole, Node, User,
    SEARCHABLE_TYPES,
)
from cabinet.passwords import hash_password
from cabinet.roles import GRANTABLE_ROLES
from cabinet.scripts import script_request
from cabinet.scripts.demo import ensure_site
from cabinet.search import MAX_EXACT_TOTAL, readable_filter
from cabinet.security import token_hash
from cabinet.terms import accept_current_terms
from tests.conftest import empty_tables

PARC = "/cabinets/parc"
LISTING = (f"/@search?portal_type=Document&review_state=sent&path={PARC}"
           "&sort_on=modified&sort_order=descending&b_start=0&b_size=50")


def url(path):
    """The ``@id`` of a node from its path (without the trailing '/')."""
    return "http://localhost" + path.rstrip("/")


def ids(response):
    return [item["@id"] for item in response.json["items"]]


def consent(patient):
    return url(f"{PARC}/patients/{patient}/documents/consentement")




# -- the demo, made a little more varied ----------------------------------------------

def _node(session, path):
    node = session.scalar(select(Node).where(Node.path == path))
    assert node is not None, path
    return node


def _grant(session, path, user, role):
    session.add(LocalRole(node_id=_node(session, path).id, principal=user.principal,
                          role=role))


def _user(session, login):
    return session.scalar(select(User).where(User.login == login))


@pytest.fixture
def world(demo, db):
    """The demo, plus:

    - the four "consentement" documents (all ``sent``) get distinct titles and
      modification times, so that every sort order is different;
    - dr.weber is no longer a professional of the whole cabinet, only a
      correspondent on patient bernard;
    - a second cabinet ``parc-nord`` (a name that starts like ``parc``) with one sent
      document, where admin is administrator and dr.weber professional;
    - ``nobody``, a user with no role anywhere.
    """
    titles = {"bernard": "D consent", "schmit": "A consent", "muller": "C consent",
              "leroy": "B consent"}
    days = {"bernard": 4, "schmit": 3, "muller": 2, "leroy": 1}
    with db() as request:
        session = request.dbsession
        for patient, title in titles.items():
            doc = _node(session, f"{PARC}/patients/{patient}/documents/consentement/")
            doc.title = title
            doc.modified = datetime(2026, 3, days[patient], 12, 0)
        weber, admin = _user(session, "dr.weber"), _user(session, "admin")
        parc = _node(session, f"{PARC}/")
        session.execute(LocalRole.__table__.delete().where(
            LocalRole.node_id == parc.id, LocalRole.principal == weber.principal))
        _grant(session, f"{PARC}/patients/bernard/", weber, "correspondent")

        cabinets = _node(session, "/cabinets/")
        nord = add_node(session, request.registry, cabinets, "Cabinet", name="parc-nord",
                        title="Cabinet du Parc Nord")
        _grant(session, "/cabinets/parc-nord/", admin, "administrator")
        _grant(session, "/cabinets/parc-nord/", weber, "professional")
        patient = add_node(session, request.registry, nord["patients"], "Patient",
                           name="klein", title="Tom Klein")
        doc = add_node(session, request.registry, patient["documents"], "Document",
                       name="consentement", title="Consentement Nord")
        doc.state = "sent"
        nobody = User(login="nobody", fullname="No Body", password_hash=hash_password("demo"))
        session.add(nobody)
        accept_current_terms(request, nobody)   # like the demo users (A2)
    return demo


NORD = url("/cabinets/parc-nord/patients/klein/documents/consentement")
BY_MODIFIED = [consent(p) for p in ("bernard", "schmit", "muller", "leroy")]


# -- the listing of the issue, per user ------------------------------------------------

@pytest.mark.parametrize("login, expected", [
    ("admin", BY_MODIFIED),
    ("sec.dupont", BY_MODIFIED),              # through the delegation from dr.martin
    ("dr.martin", BY_MODIFIED),
    ("p.leroy", [consent("leroy")]),
    ("dr.weber", [consent("bernard")]),       # correspondent on bernard only
    ("nobody", []),
])
def test_listing_returns_exactly_what_each_user_may_view(world, api, login, expected):
    response = api(login).get(LISTING)
    assert response.status_int == 200
    assert response.content_type == "application/json"
    assert ids(response) == expected
    assert response.json["items_total"] == len(expected)
    assert "items_total_relation" not in response.json
    for item in response.json["items"]:
        assert item["@type"] == "Document"
        assert item["review_state"] == "sent"
        assert item["id"] == "consentement"


def test_listing_items_are_those_the_user_can_open(world, api, testapp):
    """Every listed item opens for that user; the others of the cabinet do not."""
    weber = api("dr.weber")
    listed = set(ids(weber.get(LISTING)))
    assert listed == {consent("bernard")}
    for patient in ("bernard", "schmit", "muller", "leroy"):
        status = weber.get(consent(patient), expect_errors=True).status_int
        assert status == (200 if consent(patient) in listed else 403), patient


def test_anonymous_listing_is_refused(world, testapp):
    response = testapp.get(LISTING, headers={"Accept": "application/json"},
                           expect_errors=True)
    assert response.status_int == 401
    assert response.json["type"] == "Unauthorized"


def test_path_is_a_subtree_not_a_string_prefix(world, api):
    admin = api("admin")
    # /cabinets/parc must not match /cabinets/parc-nord
    assert NORD not in ids(admin.get(LISTING))
    everywhere = admin.get("/@search?portal_type=Document&review_state=sent"
                           "&path=/cabinets&sort_on=path")
    # byte order: "parc-nord/" sorts before "parc/"
    assert ids(everywhere) == [NORD] + sorted(BY_MODIFIED)
    assert everywhere.json["items_total"] == 5
    nord = admin.get("/@search?portal_type=Document&path=/cabinets/parc-nord/")
    assert ids(nord) == [NORD]
    # dr.weber: bernard in parc, and everything sent in parc-nord
    weber = api("dr.weber").get("/@search?portal_type=Document&review_state=sent"
                                "&path=/cabinets&sort_on=path")
    assert ids(weber) == [NORD, consent("bernard")]
    # a path below which nothing is readable
    empty = admin.get("/@search?path=/cabinets/parc/patients/nobody-here")
    assert empty.json["items"] == [] and empty.json["items_total"] == 0


def test_search_under_a_context_defaults_to_its_subtree(world, api):
    response = api("admin").get(f"{PARC}/patients/leroy/@search?portal_type=Document"
                                "&sort_on=path")
    docs = f"{PARC}/patients/leroy/documents"
    assert ids(response) == [url(f"{docs}/{name}") for name in
                             ("consentement", "devis", "ordonnance", "radio")]


def test_filter_by_type_and_state(world, api):
    leroy = api("p.leroy")
    base = f"/@search?path={PARC}&sort_on=path"
    patient = f"{PARC}/patients/leroy"
    # everything she may see in the cabinet: her record, her appointments, sent and
    # signed documents, her care items (issue #9, P2), questionnaires once sent (not
    # pending ones, not withdrawn documents)
    everything = leroy.get(base)
    assert ids(everything) == [url(patient)] + [url(f"{patient}/{p}") for p in (
        "appointments/consultation-a-venir", "appointments/controle-annule",
        "appointments/controle-passe",
        "documents/consentement", "documents/radio", "payments/consultation",
        "payments/couronne", "payments/detartrage", "questionnaires/anamnese",
        "questionnaires/satisfaction", "questionnaires/suivi")]
    assert everything.json["items_total"] == 12

    docs = leroy.get(base + "&portal_type=Document")
    assert ids(docs) == [url(f"{patient}/documents/consentement"),
                         url(f"{patient}/documents/radio")]
    signed = leroy.get(base + "&portal_type=Document&review_state=signed")
    assert ids(signed) == [url(f"{patient}/documents/radio")]
    withdrawn = leroy.get(base + "&portal_type=Document&review_state=withdrawn")
    assert ids(withdrawn) == [] and withdrawn.json["items_total"] == 0
    several = leroy.get(base + "&portal_type=QuestionnaireResponse"
                        "&review_state=sent&review_state=filled")
    assert ids(several) == [url(f"{patient}/questionnaires/anamnese"),
                            url(f"{patient}/questionnaires/suivi")]
    two_types = leroy.get(base + "&portal_type=Document&portal_type=Patient")
    assert ids(two_types) == [url(patient), url(f"{patient}/documents/consentement"),
                              url(f"{patient}/documents/radio")]

    # the cabinet's administrator sees withdrawn documents, the patient does not
    admin = api("admin").get(base + "&portal_type=Document&review_state=withdrawn")
    assert ids(admin) == [url(f"{PARC}/patients/{p}/documents/ordonnance")
                          for p in ("bernard", "leroy", "muller", "schmit")]
    # an unknown state is no error: nothing is in it
    assert api("admin").get(base + "&review_state=lost").json["items_total"] == 0


@pytest.mark.parametrize("query, expected", [
    ("sort_on=modified&sort_order=descending", ["bernard", "schmit", "muller", "leroy"]),
    ("sort_on=modified", ["bernard", "schmit", "muller", "leroy"]),   # default: newest
    ("sort_on=modified&sort_order=ascending", ["leroy", "muller", "schmit", "bernard"]),
    ("sort_on=title", ["schmit", "leroy", "muller", "bernard"]),
    ("sort_on=title&sort_order=reverse", ["bernard", "muller", "leroy", "schmit"]),
    ("sort_on=path", ["bernard", "leroy", "muller", "schmit"]),
    ("sort_on=path&sort_order=descending", ["schmit", "muller", "leroy", "bernard"]),
])
def test_sorting(world, api, query, expected):
    response = api("admin").get(
        f"/@search?portal_type=Document&review_state=sent&path={PARC}&{query}")
    assert ids(response) == [consent(p) for p in expected]


@pytest.mark.parametrize("query, message", [
    ("portal_type=Nope", "portal_type"),
    ("portal_type=Folder", "portal_type"),
    ("sort_on=password_hash", "sort_on"),
    ("sort_order=sideways", "sort_order"),
    ("b_start=-1", "b_start"),
    ("b_start=abc", "b_start"),
    ("b_size=0", "b_size"),
    ("b_size=100000", "b_size"),
    ("b_size=1.5", "b_size"),
    ("path=cabinets/parc", "path"),
])
def test_bad_parameters_are_400_with_a_json_error(world, api, query, message):
    response = api("admin").get(f"/@search?{query}", expect_errors=True)
    assert response.status_int == 400
    assert response.content_type == "application/json"
    assert response.json["type"] == "BadRequest"
    assert message in response.json["message"]


def test_delegation_listing_follows_the_clock(world, db, api, clock):
    """sec.dupont lists dr.martin's patients only while the delegation is in effect."""
    assert len(ids(api("sec.dupont").get(LISTING))) == 4
    with db() as request:
        delegation = request.dbsession.scalar(
            select(Delegation).where(Delegation.name == "sec-dupont"))
        delegation.end_date = clock.today()
    assert len(ids(api("sec.dupont").get(LISTING))) == 4       # the end day still counts
    clock.advance(days=1)               # past the end date; the state still says active
    response = api("sec.dupont").get(LISTING)
    assert ids(response) == [] and response.json["items_total"] == 0


# -- batching --------------------------------------------------------------------------

def bulk_documents(engine, folder_path, count, state="sent", start=None, prefix="doc"):
    """Insert ``count`` documents under the folder at ``folder_path`` with two
    executemany INSERTs (nodes, then documents): fast enough for 10,000 rows.
    Their ``modified`` times increase with their number."""
    start = start or datetime(2025, 1, 1)
    with engine.begin() as conn:
        parent_id = conn.scalar(select(Node.id).where(Node.path == folder_path))
        assert parent_id is not None, folder_path
        rows = [{"parent_id": parent_id, "name": f"{prefix}-{n:05d}", "type": "document",
                 "path": f"{folder_path}{prefix}-{n:05d}/", "title": f"Document {n:05d}",
                 "state": state, "created": start, "version": 1,
                 "modified": start + timedelta(minutes=n)} for n in range(count)]
        new_ids = conn.execute(
            insert(Node.__table__).returning(Node.__table__.c.id,
                                             sort_by_parameter_order=True),
            rows).scalars().all()
        conn.execute(insert(Document.__table__),
                     [{"id": i, "description": "", "needs_signature": False}
                      for i in new_ids])
        # what cabinet.document_sharing writes for a document without a type: shared
        # with the record's patient, guardians and correspondents (issue #4)
        conn.execute(insert(LocalRole.__table__),
                     [{"node_id": i, "principal": f"role:{audience}",
                       "role": f"shared_{audience}"}
                      for i in new_ids for audience in ("patient", "guardian",
                                                        "correspondent")])
    return new_ids


def _query(link):
    parts = urlsplit(link)
    return parts.path, parse_qsl(parts.query)


def test_batching_walks_every_item_once(world, engine, api):
    leroy_docs = f"{PARC}/patients/leroy/documents/"
    bulk_documents(engine, leroy_docs, 120)
    client = api("p.leroy")
    first = client.get(f"/@search?portal_type=Document&path={PARC}&b_size=50")
    assert first.json["items_total"] == 122     # 120 new + consentement + radio
    batching = first.json["batching"]
    assert "prev" not in batching
    assert dict(_query(batching["next"])[1])["b_start"] == "50"
    assert dict(_query(batching["last"])[1])["b_start"] == "100"
    assert dict(_query(batching["first"])[1])["b_start"] == "0"

    seen, page, pages = [], first, 0
    while True:
        pages += 1
        assert page.json["items_total"] == 122
        seen += ids(page)
        link = page.json["batching"].get("next")
        if link is None:
            break
        path, query = _query(link)
        # the link keeps the filters
        assert ("portal_type", "Document") in query and ("path", PARC) in query
        page = client.get(link)
        assert "prev" in page.json["batching"]
    assert pages == 3 and len(ids(page)) == 22
    assert len(seen) == len(set(seen)) == 122
    # the newest first (default order): the demo's, then the bulk ones counted down
    assert seen[:5] == [url(f"{leroy_docs}radio"), url(f"{leroy_docs}consentement")] + [
        url(f"{leroy_docs}doc-{n:05d}") for n in (119, 118, 117)]
    assert dict(_query(page.json["batching"]["prev"])[1])["b_start"] == "50"

    # past the end: an empty page, the total still exact
    beyond = client.get(f"/@search?portal_type=Document&path={PARC}&b_start=500")
    assert beyond.json["items"] == [] and beyond.json["items_total"] == 122

    # the same walk seen by someone who may not see those documents: nothing
    assert api("dr.weber").get(
        f"/@search?path={leroy_docs}").json["items_total"] == 0


def test_batching_links_keep_repeated_parameters(world, engine, api):
    """portal_type and review_state may repeat; the next page is of the same query."""
    bulk_documents(engine, f"{PARC}/patients/bernard/documents/", 30, state="signed")
    bulk_documents(engine, f"{PARC}/patients/bernard/documents/", 30, state="withdrawn",
                   prefix="old")
    client = api("admin")
    query = (f"/@search?portal_type=Document&portal_type=QuestionnaireResponse"
             f"&review_state=signed&review_state=withdrawn&path={PARC}&b_size=25")
    first = client.get(query)
    total = first.json["items_total"]
    assert total == 60 + 4 + 4       # bulk + the demo's radios (signed) + ordonnances
    seen = ids(first)
    page = first
    while "next" in page.json["batching"]:
        page = client.get(page.json["batching"]["next"])
        assert page.json["items_total"] == total
        seen += ids(page)
    assert len(seen) == len(set(seen)) == total


# -- totals beyond 10,000 and the query plan -------------------------------------------

def _statements(engine):
    """Record the SQL statements run on ``engine`` (a list to read after)."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", before)
    return statements, lambda: event.remove(engine, "before_cursor_execute", before)


def test_items_total_is_exact_up_to_10000_then_gte(world, engine, api):
    bernard = f"{PARC}/patients/bernard/documents/"
    admin, leroy = api("admin"), api("p.leroy")
    small_page = LISTING.replace("b_size=50", "b_size=2")
    statements, stop = _statements(engine)
    try:
        assert admin.get(small_page).json["items_total"] == 4
    finally:
        stop()
    few_rows = len(statements)

    # the cabinet holds 4 sent "consentement" documents already
    bulk_documents(engine, bernard, MAX_EXACT_TOTAL - 4)
    exact = admin.get(LISTING)
    assert exact.json["items_total"] == MAX_EXACT_TOTAL
    assert "items_total_relation" not in exact.json
    assert len(exact.json["items"]) == 50
    assert dict(_query(exact.json["batching"]["last"])[1])["b_start"] == "9950"

    bulk_documents(engine, bernard, 1, prefix="one-more", start=datetime(2026, 3, 9))
    beyond = admin.get(LISTING)
    assert beyond.json["items_total"] == MAX_EXACT_TOTAL
    assert beyond.json["items_total_relation"] == "gte"
    assert ids(beyond)[0] == url(f"{bernard}one-more-00000")     # the newest
    assert "next" in beyond.json["batching"]

    # as many SQL statements for 10,001 rows as for 4: no row is loaded to be
    # checked or counted in Python
    statements, stop = _statements(engine)
    try:
        assert admin.get(small_page).json["items_total"] == MAX_EXACT_TOTAL
    finally:
        stop()
    assert len(statements) == few_rows, [s for s, _p in statements]

    # the patient still gets her exact, small count among the 10,001
    mine = leroy.get(LISTING)
    assert ids(mine) == [consent("leroy")] and mine.json["items_total"] == 1
    assert "items_total_relation" not in mine.json

    # the last page before 10,000 is reachable and full
    deep = admin.get(LISTING.replace("b_start=0", "b_start=9950"))
    assert len(deep.json["items"]) == 50


def _plan(engine, statement, parameters):
    """The query plan of ``statement`` as text, for this backend."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE nodes")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            return "\n".join(row[0] for row in rows)
        if dialect == "sqlite":     # no ANALYZE: SQLite's plain heuristics
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                        parameters).all()
            return "\n".join(row[-1] for row in rows)
    raise AssertionError(f"no query-plan check for backend {dialect}")


def _uses_an_index_on_nodes(dialect, plan):
    if dialect == "postgresql":
        assert "Seq Scan on nodes" not in plan, plan
        return bool(re.search(r"Index (Only )?Scan( Backward)? using \w+ on nodes", plan)
                    or re.search(r"Bitmap Index Scan on ix_nodes_\w+", plan))
    assert not re.search(r"SCAN nodes(?! USING)", plan), plan
    return bool(re.search(r"(SEARCH|SCAN) nodes USING (COVERING )?INDEX", plan))


@pytest.mark.parametrize("login", ["admin", "p.leroy"])
def test_listing_query_uses_an_index(world, engine, api, login):
    """The page query of the listing, as the @search view runs it, is planned with an
    index on nodes (EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)."""
    dialect = engine.dialect.name
    assert dialect in ("postgresql", "sqlite"), dialect
    for patient in ("bernard", "muller", "schmit"):
        bulk_documents(engine, f"{PARC}/patients/{patient}/documents/", 4000)
    client = api(login)
    statements, stop = _statements(engine)
    try:
        response = client.get(LISTING)
    finally:
        stop()
    assert response.status_int == 200
    pages = [(s, p) for s, p in statements
             if re.search(r"\bFROM nodes\b", s) and "LIMIT" in s.upper()
             and "ORDER BY" in s.upper()]
    assert len(pages) == 1, [s for s, _p in statements]
    plan = _plan(engine, *pages[0])
    assert _uses_an_index_on_nodes(dialect, plan), plan


# -- property: the SQL filter agrees with the per-object permission check -------------

def _token(session, user, now):
    token = secrets.token_urlsafe(16)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), created=now,
                         expires=now + timedelta(days=30)))
    return token


def _user_request(registry, token=None):
    request = script_request(registry)
    if token is not None:
        request.headers["Authorization"] = f"Bearer {token}"
    return request


DOC_STATES = ["pending", "sent", "signed", "withdrawn"]
QUESTIONNAIRE_STATES = ["pending", "sent", "filled", "validated", "signed"]
DELEGATION_STATES = ["invited", "active", "ended"]
MEMBER_STATES = ["invited", "active", "ended"]
ROLES = st.sampled_from(GRANTABLE_ROLES)
INDEX = st.integers(min_value=0, max_value=10_000)


@st.composite
def trees(draw):
    """A random content tree, as data: who exists, what is where, in which state,
    who holds which role where, and who acts for whom from when to when."""
    users = draw(st.integers(min_value=2, max_value=5))
    user = st.integers(min_value=0, max_value=users - 1)
    groups = draw(st.lists(st.sets(user, max_size=users), max_size=2))
    patient = st.tuples(st.lists(st.sampled_from(DOC_STATES), max_size=3),
                        st.lists(st.sampled_from(QUESTIONNAIRE_STATES), max_size=2),
                        st.one_of(st.none(), user))
    cabinets = draw(st.lists(st.lists(patient, min_size=1, max_size=3),
                             min_size=1, max_size=2))
    delegation = st.tuples(user, st.sampled_from(DELEGATION_STATES),
                           st.integers(-3, 2), st.one_of(st.none(), st.integers(-2, 3)),
                           st.booleans())
    professionals = draw(st.lists(
        st.tuples(st.one_of(st.none(), user), st.lists(delegation, max_size=2)),
        max_size=3))
    spaces = draw(st.lists(st.tuples(
        st.lists(st.tuples(st.sampled_from(MEMBER_STATES), st.one_of(st.none(), user)),
                 max_size=2),
        st.lists(st.sampled_from(MEMBER_STATES), max_size=2)), max_size=1))
    principals = users + len(groups)
    grants = draw(st.lists(st.tuples(INDEX, st.integers(0, principals - 1), ROLES),
                           max_size=14))
    # the roles that matter most, on the nodes that matter most, more often
    focused = draw(st.lists(st.tuples(
        INDEX, st.integers(0, principals - 1),
        st.sampled_from(["professional", "patient", "staff", "administrator",
                         "guardian", "correspondent", "space_admin", "delegate"])),
        max_size=6))
    return {"users": users, "groups": groups, "cabinets": cabinets,
            "professionals": professionals, "spaces": spaces,
            "grants": grants + focused}


def sibling(base, n):
    """Names of siblings where each is a prefix of the next ("p", "p-p", "p-p-p"):
    a subtree test by string prefix instead of by path would mix them up."""
    return "-".join([base] * (n + 1))


def build(request, tree):
    """Write ``tree`` into the (empty) database; return the users and all nodes."""
    session, registry = request.dbsession, request.registry
    today = registry.getUtility(IClock).today()
    root = ensure_site(request)
    users = [User(login=f"u{n}", fullname=f"User {n}") for n in range(tree["users"])]
    session.add_all(users)
    session.flush()
    groups = []
    for n, members in enumerate(tree["groups"]):
        group = Group(name=f"g{n}", title=f"Group {n}")
        session.add(group)
        session.flush()
        session.add_all(GroupMember(group_id=group.id, user_id=users[m].id)
                        for m in sorted(members))
        groups.append(group)

    def add(parent, portal_type, name, state=None, **fields):
        node = add_node(session, registry, parent, portal_type, name=name, title=name,
                        **fields)
        if state is not None:
            node.state = state
        return node

    cabinets = root["cabinets"]        # the site comes with its top folders
    for c, patients in enumerate(tree["cabinets"]):
        cabinet = add(cabinets, "Cabinet", sibling("c", c))
        for p, (docs, questionnaires, patient_user) in enumerate(patients):
            patient = add(cabinet["patients"], "Patient", sibling("p", p),
                          user_id=users[patient_user].id if patient_user is not None
                          else None)
            for d, state in enumerate(docs):
                add(patient["documents"], "Document", sibling("d", d), state)
            for q, state in enumerate(questionnaires):
                add(patient["questionnaires"], "QuestionnaireResponse", sibling("q", q),
                    state)
    professionals = root["professionals"]
    for n, (owner, delegations) in enumerate(tree["professionals"]):
        pro = add(professionals, "Professional", sibling("pro", n),
                  user_id=users[owner].id if owner is not None else None)
        for d, (delegate, state, start, end, can_sign) in enumerate(delegations):
            add(pro["delegations"], "Delegation", sibling("del", d), state,
                professional_id=pro.id, delegate_id=users[delegate].id,
                start_date=today + timedelta(days=start),
                end_date=today + timedelta(days=end) if end is not None else None,
                can_sign=can_sign)
    spaces = root["spaces"]
    for s, (members, mandates) in enumerate(tree["spaces"]):
        space = add(spaces, "Space", sibling("s", s))
        for m, (state, member) in enumerate(members):
            add(space["members"], "Membership", sibling("m", m), state,
                user_id=users[member].id if member is not None else None)
        for m, state in enumerate(mandates):
            add(space["mandates"], "Mandate", sibling("md", m), state)
    session.flush()

    nodes = list(session.scalars(select(Node).order_by(Node.id)))
    principals = [u.principal for u in users] + [g.principal for g in groups]
    seen = set()
    for index, principal, role in tree["grants"]:
        node = nodes[index % len(nodes)]
        key = (node.id, principals[principal], role)
        if key not in seen:
            seen.add(key)
            session.add(LocalRole(node_id=node.id, principal=principals[principal],
                                  role=role))
    session.flush()
    now = registry.getUtility(IClock).now()
    return [(user.login, _token(session, user, now)) for user in users]


def sql_readable(registry, token):
    """The ids the SQL filter lets the user list."""
    request = _user_request(registry, token)
    try:
        with request.tm:
            return set(request.dbsession.scalars(
                select(Node.id).where(readable_filter(request))))
    finally:
        manager.pop()


def acl_readable(registry, token):
    """The ids (of searchable types) for which the per-object check allows view,
    each node seen with its real lineage as traversal would give it."""
    request = _user_request(registry, token)
    try:
        with request.tm:
            nodes = {n.id: n for n in request.dbsession.scalars(select(Node))}
            for node in nodes.values():
                node.__parent__ = nodes.get(node.parent_id)
            return {node.id for node in nodes.values()
                    if node.portal_type in SEARCHABLE_TYPES
                    and request.has_permission(node.view_permission, node)}
    finally:
        manager.pop()


def view_readable(testapp, registry, token):
    """The ids the @search view returns (all pages) to the user."""
    response = testapp.get("/@search?b_size=500&sort_on=path",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.json["items_total"] < 500
    paths = [urlsplit(item["@id"]).path.rstrip("/") + "/"
             for item in response.json["items"]]
    request = _user_request(registry)
    try:
        with request.tm:
            by_path = dict(request.dbsession.execute(
                select(Node.path, Node.id).where(Node.path.in_(paths))).all())
    finally:
        manager.pop()
    assert len(by_path) == len(paths)
    return set(by_path.values())


@settings(max_examples=25, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tree=trees())
def test_sql_filter_agrees_with_the_permission_check(app, engine, testapp, tree):
    empty_tables(engine)
    request = script_request(app.registry)
    try:
        with request.tm:
            tokens = build(request, tree)
    finally:
        manager.pop()
    checked = 0
    for login, token in tokens + [("anonymous", None)]:
        expected = acl_readable(app.registry, token)
        assert sql_readable(app.registry, token) == expected, login
        if token is not None:
            assert view_readable(testapp, app.registry, token) == expected, login
        checked += len(expected)
    # Professionals are visible to every signed-in user: the check saw something.
    assert checked >= len(tree["professionals"]) * len(tokens)


def test_property_generator_reaches_the_interesting_cases(app, engine):
    """A fixed tree through the same machinery, where every kind of reason occurs:
    a patient's own record, a group's role, a delegation in effect and one expired,
    an inherited role, and a role the workflow state does not honour."""
    tree = {
        "users": 4, "groups": [{2}],
        "cabinets": [[(["sent", "pending"], ["filled"], 1),
                      (["withdrawn", "sent"], [], None)]],
        "professionals": [(0, [(3, "active", -1, None, False),
                               (2, "active", -3, -1, True)])],
        "spaces": [([("active", 2)], ["active"])],
        "grants": [],
    }
    empty_tables(engine)
    request = script_request(app.registry)
    try:
        with request.tm:
            session = request.dbsession
            tokens = dict(build(request, tree))

            def grant(path, principal, role):
                node = _node(session, path)
                session.add(LocalRole(node_id=node.id, principal=principal, role=role))
            users = {u.login: u for u in session.scalars(select(User))}
            group = session.scalar(select(Group))
            grant("/cabinets/c/", users["u0"].principal, "professional")
            grant("/cabinets/c/patients/p/", users["u1"].principal, "patient")
            grant("/cabinets/c/patients/p-p/", group.principal, "staff")
            grant("/spaces/s/", users["u2"].principal, "space_member")
    finally:
        manager.pop()

    def paths(login):
        found = sql_readable(app.registry, tokens[login])
        assert found == acl_readable(app.registry, tokens[login]), login
        request = _user_request(app.registry)
        try:
            with request.tm:
                return set(request.dbsession.scalars(
                    select(Node.path).where(Node.id.in_(found),
                                            Node.type != "professional")))
        finally:
            manager.pop()

    cabinet = "/cabinets/c/"
    p0, p1 = f"{cabinet}patients/p/", f"{cabinet}patients/p-p/"
    everything = {cabinet, p0, f"{p0}documents/d/", f"{p0}documents/d-d/",
                  f"{p0}questionnaires/q/", p1, f"{p1}documents/d/", f"{p1}documents/d-d/"}
    assert paths("u0") == everything
    # u3 acts for u0 (delegation in effect): same cabinet content
    assert paths("u3") == everything
    # the patient: her record, the sent document, the filled questionnaire
    # (not the sent document of patient p-p, whose name starts like hers)
    assert paths("u1") == {p0, f"{p0}documents/d/", f"{p0}questionnaires/q/"}
    # u2: staff of p1 through her group; her delegation from u0 ended yesterday;
    # space member (the space, the active membership; not the mandate)
    assert paths("u2") == {p1, f"{p1}documents/d/", f"{p1}documents/d-d/", "/spaces/s/",
                           "/spaces/s/members/m/"}
