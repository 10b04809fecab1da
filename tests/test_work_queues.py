"""The console's work queues (issue #10, K4): each queue's contents against rows made
here, sorting, filtering and pages, the CSV export (neutralised cells, streamed, the
row limit), the bad inputs (a day to come, a bad period, an unknown sort), the
query count of a page, the per-patient console, and who is refused (patients,
visitors, the staff of another cabinet)."""
import csv
import io
import types
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from cabinet.content import add_node
from cabinet.csv_export import csv_response, neutralise
from cabinet.interfaces import IClock
from cabinet.models import LocalRole, Message, Node, OnlinePayment, TermsVersion, User
from cabinet.terms import accept_for_all_users
from tests.conftest import add_other_cabinet, login
from tests.views.test_query_budget import selects, statements

PARC = "/cabinets/parc"
QUEUES = f"{PARC}/@work-queues"
PAGES = f"{PARC}/@@work-queues"


def _folder(session, path):
    return session.scalar(select(Node).where(Node.path == path))


def add_patients(db, names, portal=True, cabinet=PARC):
    """Patient records named ``names`` (title, last name), using the portal (someone
    holds the role ``patient`` on them) unless ``portal`` is False."""
    with db() as request:
        session = request.dbsession
        folder = _folder(session, cabinet + "/patients/")
        for i, name in enumerate(names):
            node = add_node(session, request.registry, folder, "Patient",
                            name=f"wq-{abs(hash((name, i))) % 10**8}", title=name,
                            first_name="Test", last_name=name,
                            birth_date=__import__("datetime").date(1950 + i % 50, 1, 1))
            if portal:
                session.add(LocalRole(node_id=node.id, principal=f"user:wq{node.id}",
                                      role="patient"))


def add_payment(db, record, amount, state="approved", days_ago=0, minutes=0):
    with db() as request:
        session = request.dbsession
        node = _folder(session, record + "/")
        now = request.registry.getUtility(IClock).now()
        session.add(OnlinePayment(reference=f"ref-{record[-6:]}-{amount}-{days_ago}-{minutes}",
                                  patient_id=node.id, amount=Decimal(amount), state=state,
                                  email="x@example.org",
                                  created=now - timedelta(days=days_ago, minutes=minutes)))


def add_message(db, record, text, side="patient", read=False, cabinet=PARC):
    with db() as request:
        session = request.dbsession
        node = _folder(session, record + "/")
        cab = _folder(session, cabinet + "/")
        now = request.registry.getUtility(IClock).now()
        session.add(Message(patient_id=node.id, cabinet_id=cab.id, side=side, text=text,
                            author_name=node.title, content_type="", file_name="",
                            created=now, read_at=now if read else None))


def titles(response, key="title"):
    return [item[key] for item in response.json["items"]]


def csv_rows(response):
    text = response.body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def other_cabinet(demo, db):
    """Another cabinet with its own staff member 'sec.autre' and one portal patient."""
    add_other_cabinet(db)
    add_patients(db, ["Zoé Ailleurs"], cabinet="/cabinets/autre")
    return "sec.autre"


# -- the queues' contents ------------------------------------------------------------------

def test_the_patients_using_the_portal(martin, db):
    add_patients(db, ["Anne Portail", "Bruno Portail"])
    add_patients(db, ["Carl Sans-Portail"], portal=False)
    response = martin.get(f"{QUEUES}/patients")
    data = response.json
    assert titles(response) == ["Anne Portail", "Bruno Portail", "Léa Leroy"]
    assert data["items_total"] == 3
    lea = data["items"][2]
    assert lea["@id"].endswith("/cabinets/parc/patients/leroy")
    assert lea["links"]["title"].endswith("/patients/leroy/@@patient-console")
    assert lea["birth_date"] == "1990-04-12"


def test_sort_filter_and_pages(martin, db):
    add_patients(db, ["Anne Portail", "Bruno Portail", "Chloé Portail", "Denis Autre"])
    by_birth = martin.get(f"{QUEUES}/patients?sort_on=birth_date&sort_order=descending")
    births = [i["birth_date"] for i in by_birth.json["items"]]
    assert births == sorted(births, reverse=True) and len(births) == 5
    named = martin.get(f"{QUEUES}/patients?q=portail")
    assert titles(named) == ["Anne Portail", "Bruno Portail", "Chloé Portail"]
    first = martin.get(f"{QUEUES}/patients?b_size=2&sort_on=title&sort_order=descending")
    assert titles(first) == ["Léa Leroy", "Denis Autre"]
    assert first.json["items_total"] == 5
    second = martin.get(first.json["batching"]["next"])
    assert titles(second) == ["Chloé Portail", "Bruno Portail"]
    assert second.json["items_total"] == 5
    last = martin.get(second.json["batching"]["next"])
    assert titles(last) == ["Anne Portail"] and "next" not in last.json["batching"]


@pytest.mark.parametrize("query, field", [
    ("?sort_on=password_hash", "sort_on"), ("?sort_on=phone%3B+DROP", "sort_on"),
    ("?sort_order=sideways", "sort_order"), ("?b_size=0", "b_size"),
    ("?b_size=100000", "b_size"), ("?b_start=-1", "b_start"), ("?b_start=x", "b_start"),
])
def test_bad_list_parameters_are_400_naming_the_field(martin, query, field):
    response = martin.get(f"{QUEUES}/patients{query}", status=400)
    assert response.json["type"] == "BadRequest"
    assert response.json["field"] == field
    if field == "sort_on":
        assert "birth_date" in response.json["message"]
        assert "title" in response.json["allowed"]


def test_a_bad_sort_on_the_page_says_why(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(f"{PAGES}/patients?sort_on=password_hash", status=400)
    error = page.html.select_one("#e-sort_on")
    assert "birth_date" in error.get_text()
    assert page.html.select_one("[data-total]") is None
    page = testapp.get(f"{PAGES}/patients?sort_order=sideways", status=400)
    assert "descending" in page.html.select_one("#e-sort_order").get_text()


def test_sorting_from_the_form(demo, testapp, db):
    """On a phone the column headers are hidden: the form's "sort by" does it."""
    add_patients(db, ["Anne Portail"])
    login(testapp, "dr.martin")
    page = testapp.get(f"{PAGES}/patients")
    assert page.html.select_one("table.queue-list tbody tr td a").get_text() == \
        "Anne Portail"                   # by name
    form = [page.forms[k] for k in page.forms if "queue-filters" in
            (page.forms[k].html.form.get("class") or [])][0]
    assert form["sort_on"].value == "title"
    form["sort_on"] = "birth_date"
    form["sort_order"] = "descending"
    sorted_page = form.submit()
    first = sorted_page.html.select_one("table.queue-list tbody tr td a").get_text()
    assert first == "Léa Leroy"           # born 1990, Anne in 1950
    assert sorted_page.html.select_one('th[aria-sort="descending"] a[data-sort="birth_date"]')


def test_an_unknown_queue_is_404(martin):
    assert martin.get(f"{QUEUES}/nothing", status=404).json["type"] == "NotFound"


def test_the_payments_of_a_day(martin, db, clock):
    leroy, bernard = f"{PARC}/patients/leroy", f"{PARC}/patients/bernard"
    add_payment(db, leroy, "40.00", minutes=30)
    add_payment(db, bernard, "15.50", state="declined", minutes=10)
    add_payment(db, leroy, "99.00", days_ago=1)
    today = martin.get(f"{QUEUES}/payments").json
    assert [(i["patient_title"], i["amount"], i["state"]) for i in today["items"]] == [
        ("Hugo Bernard", "15.50", "declined"), ("Léa Leroy", "40.00", "approved")]
    assert today["filters"]["day"] == clock.today().isoformat()
    assert today["items"][1]["state_title"] == "Accepté"
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    assert [i["amount"] for i in martin.get(
        f"{QUEUES}/payments?day={yesterday}").json["items"]] == ["99.00"]
    approved = martin.get(f"{QUEUES}/payments?state=approved&sort_on=amount").json
    assert [i["amount"] for i in approved["items"]] == ["40.00"]


def test_a_day_to_come_is_refused(martin, db, testapp, clock):
    add_payment(db, f"{PARC}/patients/leroy", "40.00")
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    response = martin.get(f"{QUEUES}/payments?day={tomorrow}", status=422)
    assert response.json["field"] == "day"
    assert "futur" in response.json["message"]
    martin.get(f"{QUEUES}/payments?day=2026-02-30", status=422)
    martin.get(f"{QUEUES}/payments/csv?day={tomorrow}", status=422)
    login(testapp, "dr.martin")
    page = testapp.get(f"{PAGES}/payments?day={tomorrow}", status=422)
    error = page.html.select_one("#e-day")
    assert error is not None and "futur" in error.get_text()
    assert page.html.select_one("#f-day")["value"] == tomorrow
    assert page.html.select_one("table.queue-list") is None
    with db() as request:     # nothing changed
        assert request.dbsession.scalar(select(func.count(OnlinePayment.id))) == 1


def test_the_unread_messages(martin, db):
    leroy, bernard = f"{PARC}/patients/leroy", f"{PARC}/patients/bernard"
    with db() as request:     # the demo's conversations, read: only ours are unread
        request.dbsession.execute(Message.__table__.update().values(
            read_at=request.registry.getUtility(IClock).now()))
    add_message(db, leroy, "Bonjour, une question")
    add_message(db, bernard, "Ma facture")
    add_message(db, bernard, "Déjà lu", read=True)
    add_message(db, leroy, "Réponse du cabinet", side="cabinet")
    data = martin.get(f"{QUEUES}/messages?sort_on=patient_title&sort_order=ascending").json
    assert [(i["patient_title"], i["text"]) for i in data["items"]] == [
        ("Hugo Bernard", "Ma facture"), ("Léa Leroy", "Bonjour, une question")]
    assert data["items"][1]["@id"].endswith("/patients/leroy/@@conversation")


def test_the_documents_awaiting_signature(martin):
    data = martin.get(f"{QUEUES}/signatures?sort_on=patient_title&q=&b_size=200").json
    pairs = [(i["patient_title"], i["title"]) for i in data["items"]]
    assert ("Léa Leroy", "Consentement éclairé") in pairs
    assert all(title != "Devis de traitement" for _p, title in pairs)   # pending
    assert [p for p, _t in pairs] == sorted(p for p, _t in pairs)
    assert data["items_total"] == len(pairs)


def add_response(db, record, title, state, days_ago):
    with db() as request:
        session = request.dbsession
        folder = _folder(session, record + "/questionnaires/")
        node = add_node(session, request.registry, folder, "QuestionnaireResponse",
                        name=f"wq-{title.lower().replace(' ', '-')}", title=title)
        node.state = state
        node.sent_at = request.registry.getUtility(IClock).now() - timedelta(days=days_ago)


def test_the_questionnaires_over_a_period(martin, db):
    leroy, bernard = f"{PARC}/patients/leroy", f"{PARC}/patients/bernard"
    add_response(db, leroy, "WQ rempli", "filled", 400)
    add_response(db, bernard, "WQ envoyé", "sent", 300)
    add_response(db, bernard, "WQ signé", "signed", 800)      # before the period
    period = "from=2025-01-01&to=2025-12-31"
    data = martin.get(f"{QUEUES}/questionnaires?{period}&sort_on=title").json
    assert [(i["title"], i["patient_title"], i["state"]) for i in data["items"]] == [
        ("WQ envoyé", "Hugo Bernard", "sent"), ("WQ rempli", "Léa Leroy", "filled")]
    assert data["items"][1]["state_title"] == "Rempli"
    filled = martin.get(f"{QUEUES}/questionnaires?{period}&state=filled").json
    assert [i["title"] for i in filled["items"]] == ["WQ rempli"]
    assert filled["items_total"] == 1
    martin.get(f"{QUEUES}/questionnaires?{period}&state=pending", status=400)


@pytest.mark.parametrize("period", ["from=2026-03-10&to=2026-03-01",
                                    "from=2024-03-09&to=2026-03-10"])
def test_a_bad_period_is_refused(martin, testapp, period):
    response = martin.get(f"{QUEUES}/questionnaires?{period}", status=400)
    assert response.json["field"] == "to"
    assert ("deux ans" in response.json["message"]
            or "avant de commencer" in response.json["message"])
    login(testapp, "dr.martin")
    page = testapp.get(f"{PAGES}/questionnaires?{period}", status=400)
    assert page.html.select_one("#e-to") is not None


def test_two_years_exactly_is_allowed(martin):
    martin.get(f"{QUEUES}/questionnaires?from=2024-03-10&to=2026-03-09", status=200)
    martin.get(f"{QUEUES}/questionnaires?from=2024-03-10&to=2026-03-10", status=400)


# -- CSV -----------------------------------------------------------------------------------

def test_neutralise():
    assert neutralise('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert neutralise("-2+3") == "'-2+3"
    assert neutralise("+33 6") == "'+33 6"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("Léa Leroy") == "Léa Leroy" and neutralise(None) == ""


def test_the_csv_export_neutralises_cells(martin, db):
    add_patients(db, ['=HYPERLINK("http://evil.example","x")', "-2+3"])
    response = martin.get(f"{QUEUES}/patients/csv?sort_on=title")
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:3] == ["Patient", "Nom", "Prénom"]
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","x")' in names
    assert "'-2+3" in names and "Léa Leroy" in names
    assert not any(row[0].startswith(("=", "-", "+", "@")) for row in rows[1:])
    assert len(rows) == 1 + 3


def test_the_csv_follows_the_filters_and_the_sort(martin, db):
    add_payment(db, f"{PARC}/patients/leroy", "40.00", minutes=5)
    add_payment(db, f"{PARC}/patients/bernard", "-0.00", state="pending", minutes=6)
    rows = csv_rows(martin.get(f"{QUEUES}/payments/csv?sort_on=amount&sort_order=ascending"))
    assert [r[2] for r in rows[1:]] == ["0.00", "40.00"]
    assert rows[1][3] == "En attente"
    only = csv_rows(martin.get(f"{QUEUES}/payments/csv?state=approved"))
    assert len(only) == 2


def test_the_csv_is_streamed_from_a_generator():
    consumed = []

    def rows():
        for n in range(3):
            consumed.append(n)
            yield [f"={n}", n]
    response = csv_response("x.csv", ["a", "b"], rows())
    assert isinstance(response.app_iter, types.GeneratorType)
    assert consumed == []                          # nothing read before it is sent
    chunks = iter(response.app_iter)
    assert next(chunks).decode("utf-8-sig") == "a,b\r\n"
    assert next(chunks) == b"'=0,0\r\n" and consumed == [0]


def test_an_export_over_the_row_limit_is_refused(martin, db, app):
    add_patients(db, ["Anne Portail", "Bruno Portail"])
    app.registry.settings["cabinet.csv_max_rows"] = "2"
    response = martin.get(f"{QUEUES}/patients/csv", status=422)
    assert response.json["limit"] == 2 and "limité à 2 lignes" in response.json["message"]
    assert len(csv_rows(martin.get(f"{QUEUES}/patients/csv?q=portail"))) == 3
    app.registry.settings["cabinet.csv_max_rows"] = "3"
    assert len(csv_rows(martin.get(f"{QUEUES}/patients/csv"))) == 4


# -- cost ------------------------------------------------------------------------------------

def add_documents(db, record, n, start):
    with db() as request:
        session = request.dbsession
        folder = _folder(session, record + "/documents/")
        for i in range(start, start + n):
            node = add_node(session, request.registry, folder, "Document",
                            name=f"wq-doc-{i}", title=f"Document {i:03d}",
                            needs_signature=True)
            node.state = "sent"


@pytest.mark.parametrize("queue", ["patients", "payments", "messages", "signatures",
                                   "questionnaires"])
def test_a_list_costs_the_same_queries_for_3_and_30_rows(martin, db, demo, queue):
    engine = demo.registry["db_engine"]

    def cost():
        with statements(engine) as seen:
            response = martin.get(f"{QUEUES}/{queue}?b_size=20")
        return len(selects(seen)), response.json["items_total"]

    def add(n, start):
        leroy = f"{PARC}/patients/leroy"
        if queue == "patients":
            add_patients(db, [f"Patient {start + i:03d}" for i in range(n)])
        elif queue == "messages":
            for i in range(n):
                add_message(db, leroy, f"Message {start + i}")
        elif queue == "signatures":
            add_documents(db, leroy, n, start)
        elif queue == "questionnaires":
            for i in range(n):
                add_response(db, leroy, f"Réponse {start + i:03d}", "sent", 1)
        else:
            for i in range(n):
                add_payment(db, f"{PARC}/patients/leroy", f"{start + i + 1}.00",
                            minutes=start + i)
    add(3, 0)
    few, total = cost()
    assert total >= 3
    add(27, 3)
    many, total = cost()
    assert total >= 30
    assert many == few, "the query count grows with the rows"


# -- the patient's console -------------------------------------------------------------------

def test_the_patient_console_tabs(martin, testapp, db):
    add_payment(db, f"{PARC}/patients/leroy", "40.00")
    with db() as request:           # an event of the record, as a payment writes it
        from cabinet.models import HistoryEntry
        session = request.dbsession
        session.add(HistoryEntry(node_id=_folder(session, PARC + "/patients/leroy/").id,
                                 when=request.registry.getUtility(IClock).now(),
                                 action="payment", comment="Paiement en ligne de 40,00 € reçu."))
    data = martin.get(f"{PARC}/patients/leroy/@patient-console").json
    assert data["history"][0]["comments"] == "Paiement en ligne de 40,00 € reçu."
    tabs = {t["id"]: t for t in data["tabs"]}
    assert list(tabs) == ["appointments", "messages", "payments", "documents",
                          "questionnaires", "history"]
    assert tabs["documents"]["count"] == 4          # the demo's four documents
    assert tabs["payments"]["page"].endswith("/patients/leroy/payments")
    assert tabs["messages"]["page"].endswith("/patients/leroy/@@conversation")
    assert tabs["messages"]["count"] >= 1
    login(testapp, "dr.martin")
    page = testapp.get(f"{PARC}/patients/leroy/@@patient-console")
    links = {a["data-tab"]: a["href"] for a in page.html.select("nav.patient-tabs a")}
    assert "Paiement en ligne de 40,00 € reçu." in page.html.select_one(
        "section.history").get_text()
    assert links["appointments"].endswith("/patients/leroy/appointments")
    for tab, href in links.items():
        if tab != "messages":
            testapp.get(href, status=200)


# -- who may ---------------------------------------------------------------------------------

def test_patients_and_visitors_are_refused(demo, api, testapp):
    lea = api("p.leroy")
    for name in ("patients", "payments", "messages", "signatures", "questionnaires"):
        lea.get(f"{QUEUES}/{name}", status=403)
        lea.get(f"{QUEUES}/{name}/csv", status=403)
        testapp.get(f"{QUEUES}/{name}", headers={"Accept": "application/json"},
                    status=401)
    lea.get(QUEUES, status=403)
    lea.get(f"{PARC}/patients/leroy/@patient-console", status=403)
    testapp.get(f"{PAGES}/patients", status=302)


def test_staff_of_another_cabinet_see_nothing_of_it(other_cabinet, api, db):
    add_payment(db, f"{PARC}/patients/leroy", "40.00")
    other = api(other_cabinet)
    for name in ("patients", "payments", "signatures", "questionnaires"):
        other.get(f"{QUEUES}/{name}", status=403)
        other.get(f"{QUEUES}/{name}/csv", status=403)
    other.get(f"{PARC}/patients/leroy/@patient-console", status=403)
    own = other.get("/cabinets/autre/@work-queues/patients")
    assert titles(own) == ["Zoé Ailleurs"]
    assert other.get("/cabinets/autre/@work-queues/payments").json["items"] == []
    assert other.get("/cabinets/autre/@work-queues/signatures").json["items"] == []


# -- the pages -------------------------------------------------------------------------------

def test_the_pages_and_the_console_links(demo, testapp, db):
    add_patients(db, ["Anne Portail"])
    login(testapp, "dr.martin")
    cabinet = testapp.get(PARC, headers={"Accept": "text/html"})
    assert cabinet.html.select_one(f'a[href$="{PAGES}"]') is not None
    index = testapp.get(PAGES)
    assert {li["data-queue"] for li in index.html.select("li[data-queue]")} == {
        "patients", "payments", "messages", "signatures", "questionnaires"}
    page = testapp.get(f"{PAGES}/patients?sort_on=title")
    assert page.html.select_one("meta[name=viewport]") is not None
    assert page.html.select_one("[data-total]")["data-total"] == "2"
    cells = page.html.select("table.queue-list tbody td[data-label]")
    assert cells and cells[0]["data-label"] == "Patient"
    sort = page.html.select_one('a[data-sort="title"]')["href"]
    assert "sort_order=descending" in sort
    resorted = testapp.get(sort)
    first = resorted.html.select_one("table.queue-list tbody tr td a").get_text()
    assert first == "Léa Leroy"
    csv_link = page.html.select_one("a.csv")["href"]
    assert "/@@work-queues/patients/csv?" in csv_link and "sort_on=title" in csv_link
    assert testapp.get(f"{QUEUES}/patients?sort_on=title").json["csv"].endswith(
        "/@work-queues/patients/csv?sort_on=title")
    assert testapp.get(csv_link).content_type == "text/csv"
    for name in ("payments", "messages", "signatures", "questionnaires"):
        testapp.get(f"{PAGES}/{name}", status=200)
    leroy = testapp.get(f"{PARC}/patients/leroy", headers={"Accept": "text/html"})
    assert leroy.html.select_one('a[href$="/patients/leroy/@@patient-console"]')


def test_the_permission_filter_follows_the_permission_asked(demo, db, testapp, app):
    """readable_filter(..., permission): the (state, role) pairs granting that
    permission, compiled from the workflow; a correspondent views Léa's record but
    not its payments, as the per-object check says."""
    from pyramid.threadlocal import manager
    from cabinet.scripts import script_request
    from cabinet.search import readable_filter
    from tests.conftest import api_token
    with db() as request:
        session = request.dbsession
        user = User(login="corr", fullname="Correspondant",
                    password_hash=session.scalar(select(User.password_hash).where(
                        User.login == "dr.martin")))
        session.add(user)
        session.flush()
        leroy = _folder(session, PARC + "/patients/leroy/")
        session.add(LocalRole(node_id=leroy.id, principal=user.principal,
                              role="correspondent"))
        terms = session.scalar(select(TermsVersion))
        accept_for_all_users(session, terms, request.registry.getUtility(IClock).now())
        leroy_id = leroy.id
    for login_name, payments_too in (("corr", False), ("dr.martin", True)):
        request = script_request(app.registry)
        request.headers["Authorization"] = f"Bearer {api_token(testapp, login_name)}"
        try:
            with request.tm:
                session = request.dbsession

                def ids(permission=None):
                    return set(session.scalars(select(Node.id).where(
                        Node.type == "patient",
                        readable_filter(request, ("Patient",), permission))))
                node = _folder(session, PARC + "/patients/leroy/")
                assert leroy_id in ids()
                assert (leroy_id in ids("payment:view")) is payments_too
                assert bool(request.has_permission("payment:view", node)) is payments_too
        finally:
            manager.pop()


@pytest.mark.parametrize("queue", ["patients", "payments", "messages", "signatures",
                                   "questionnaires"])
def test_every_sortable_column_sorts_both_ways_and_exports(martin, db, queue):
    add_payment(db, f"{PARC}/patients/leroy", "12.00")
    add_message(db, f"{PARC}/patients/leroy", "Bonjour")
    columns = martin.get(f"{QUEUES}/{queue}").json["columns"]
    sortable = [c["id"] for c in columns if c["sortable"]]
    assert sortable
    for column in sortable:
        seen = []
        for order in ("ascending", "descending"):
            data = martin.get(f"{QUEUES}/{queue}?sort_on={column}&sort_order={order}").json
            assert (data["sort_on"], data["sort_order"]) == (column, order)
            seen.append([i["@id"] for i in data["items"]])
        assert sorted(seen[0]) == sorted(seen[1])
    rows = csv_rows(martin.get(f"{QUEUES}/{queue}/csv"))
    assert rows[0] == [c["title"] for c in columns]
    assert len(rows) - 1 == martin.get(f"{QUEUES}/{queue}").json["items_total"]


def test_the_console_lists_lead_to_their_work_queue(demo, testapp):
    login(testapp, "dr.martin")
    for page, queue in ((f"{PARC}/@@questionnaires?state=filled", "questionnaires"),
                        (f"{PARC}/@@awaiting-signature", "signatures"),
                        (f"{PARC}/@@messages", "messages")):
        link = testapp.get(page).html.find(
            "a", href=lambda h: h and f"/@@work-queues/{queue}" in h)
        assert link is not None, page
        testapp.get(link["href"], status=200)
    questionnaires = testapp.get(f"{PARC}/@@questionnaires?state=filled").html.find(
        "a", href=lambda h: h and "/@@work-queues/questionnaires" in h)
    assert questionnaires["href"].endswith("?state=filled")


def test_the_patient_console_costs_the_same_for_3_and_30_documents(martin, db, demo):
    engine = demo.registry["db_engine"]
    leroy = f"{PARC}/patients/leroy"

    def cost():
        with statements(engine) as seen:
            data = martin.get(f"{leroy}/@patient-console").json
        return len(selects(seen)), {t["id"]: t["count"] for t in data["tabs"]}["documents"]
    add_documents(db, leroy, 3, 0)
    few, count = cost()
    assert count == 4 + 3
    add_documents(db, leroy, 27, 3)
    many, count = cost()
    assert count == 4 + 30 and many == few


def test_a_payment_belongs_to_the_cabinets_local_day(demo, api, db, clock, testapp):
    """Luxembourg is UTC+2 in summer: a payment at 23:30 UTC on 14 July was made at
    01:30 on 15 July in the cabinet, and that is the day it is listed under (and the
    day the queue opens on, which is not a day to come)."""
    clock.set(datetime(2026, 7, 14, 23, 45))              # 01:45 on 15 July, locally
    martin = api("dr.martin")
    leroy, bernard = f"{PARC}/patients/leroy", f"{PARC}/patients/bernard"
    add_payment(db, leroy, "40.00", minutes=15)             # 23:30 UTC → 15 July 01:30
    add_payment(db, bernard, "15.00", minutes=135)          # 21:30 UTC → 14 July 23:30
    add_payment(db, leroy, "7.00", days_ago=1, minutes=75)  # 13 July 22:30 UTC → 14 July 00:30
    add_payment(db, leroy, "3.00", days_ago=1, minutes=135)  # 13 July 21:30 UTC → 13 July
    today = martin.get(f"{QUEUES}/payments").json
    assert today["filters"]["day"] == "2026-07-15"
    assert [i["amount"] for i in today["items"]] == ["40.00"]
    assert today["items"][0]["created"] == "2026-07-14T23:30:00+00:00"
    assert [i["amount"] for i in martin.get(
        f"{QUEUES}/payments?day=2026-07-15").json["items"]] == ["40.00"]
    assert [i["amount"] for i in martin.get(
        f"{QUEUES}/payments?day=2026-07-14").json["items"]] == ["15.00", "7.00"]
    assert [i["amount"] for i in martin.get(
        f"{QUEUES}/payments?day=2026-07-13").json["items"]] == ["3.00"]
    export = martin.get(f"{QUEUES}/payments/csv?day=2026-07-14")
    assert [row[2] for row in csv_rows(export)[1:]] == ["15.00", "7.00"]
    assert "payments-2026-07-15.csv" in export.headers["Content-Disposition"]
    martin.get(f"{QUEUES}/payments?day=2026-07-16", status=422)
    login(testapp, "dr.martin")                # the page shows the cabinet's time
    page = testapp.get(f"{PAGES}/payments")
    cells = [td.get_text(" ", strip=True) for td in page.html.select("table.queue-list td")]
    assert "15/07/2026 à 01:30" in cells and "40,00\u00a0€" in cells
    page = testapp.get(f"{PAGES}/payments?day=2026-07-14")
    cells = [td.get_text(" ", strip=True) for td in page.html.select("table.queue-list td")]
    assert "14/07/2026 à 23:30" in cells and "15/07/2026 à 01:30" not in cells


def test_a_day_of_a_daylight_saving_change_lasts_23_hours(demo, api, db, clock):
    """29 March 2026 in Luxembourg runs from 28 March 23:00 UTC to 29 March 22:00 UTC."""
    clock.set(datetime(2026, 3, 30, 8, 0))
    martin = api("dr.martin")
    leroy = f"{PARC}/patients/leroy"
    for amount, at in (("1.00", datetime(2026, 3, 28, 22, 59)),   # 28 March 23:59 CET
                       ("2.00", datetime(2026, 3, 28, 23, 0)),    # 29 March 00:00 CET
                       ("3.00", datetime(2026, 3, 29, 21, 59)),   # 29 March 23:59 CEST
                       ("4.00", datetime(2026, 3, 29, 22, 0))):   # 30 March 00:00 CEST
        add_payment(db, leroy, amount, minutes=int((clock.now() - at).total_seconds() // 60))

    def amounts(day):
        return sorted(i["amount"] for i in martin.get(
            f"{QUEUES}/payments?day={day}").json["items"])
    assert amounts("2026-03-28") == ["1.00"]
    assert amounts("2026-03-29") == ["2.00", "3.00"]
    assert amounts("2026-03-30") == ["4.00"]
