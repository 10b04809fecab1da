"""The JSON API in plone.restapi's shape (read, create, edit, delete, each checked
against the workflow state's permissions) and the HTML pages of the tree."""
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from cabinet.content import add_node
from cabinet.models import Node
from cabinet.resources import get_root
from tests.conftest import login

BASE = "http://localhost"
PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
DOCS = f"{LEROY}/documents"
QUESTIONNAIRES = f"{LEROY}/questionnaires"
CREATED = "2026-03-10T09:00:00+00:00"       # the fixed clock of the tests, UTC
SUMMARY_KEYS = {"@id", "@type", "id", "title", "review_state", "created", "modified"}




def node_state(db, path):
    """(title, state, modified) of the node at ``path`` as stored, or None."""
    with db() as request:
        row = request.dbsession.execute(
            select(Node.title, Node.state, Node.modified).where(Node.path == path + "/")
        ).first()
        return tuple(row) if row else None


def count_nodes(db):
    with db() as request:
        return request.dbsession.scalar(select(func.count(Node.id)))


# -- reading: the shape of every resource type ---------------------------------------------

@pytest.fixture
def mandate(demo, db):
    """A mandate in the demo space (the demo has none)."""
    with db() as request:
        space = get_root(request)["spaces"]["sante-services"]
        add_node(request.dbsession, request.registry, space["mandates"], "Mandate",
                 name="comptable", title="Mandat comptable",
                 activation_deadline=date(2026, 4, 1))
    return "/spaces/sante-services/mandates/comptable"


RESOURCES = [
    # (login, path, @type, review_state, container)
    ("dr.martin", "", "Site", "published", True),
    ("dr.martin", "/cabinets", "Folder", "published", True),
    ("dr.martin", PARC, "Cabinet", "open", True),
    ("dr.martin", f"{PARC}/patients", "Folder", "published", True),
    ("dr.martin", LEROY, "Patient", "active", True),
    ("dr.martin", f"{DOCS}/consentement", "Document", "sent", False),
    ("dr.martin", f"{QUESTIONNAIRES}/suivi", "QuestionnaireResponse", "filled", False),
    ("dr.martin", f"{LEROY}/appointments/consultation-a-venir", "Appointment",
     "scheduled", False),
    ("dr.martin", f"{LEROY}/payments/detartrage", "CareItem", "recorded", False),
    ("dr.martin", f"{LEROY}/imaging/sourire-debut", "Image", "stored", False),
    ("dr.martin", f"{PARC}/questionnaire-templates/questionnaire-medical",
     "QuestionnaireTemplate", "active", False),
    ("dr.martin", "/professionals/martin", "Professional", "active", True),
    ("dr.martin", "/professionals/martin/delegations/sec-dupont", "Delegation", "active",
     False),
    ("dr.weber", "/spaces/sante-services", "Space", "active", True),
    ("dr.weber", "/spaces/sante-services/members/weber", "Membership", "active", False),
    ("dr.weber", "/spaces/sante-services/mandates/comptable", "Mandate", "invited", False),
]


def test_every_resource_type_in_plone_restapi_shape(demo, mandate, api):
    clients = {name: api(name) for name in ("dr.martin", "dr.weber")}
    seen_types = set()
    for login_name, path, portal_type, state, container in RESOURCES:
        response = clients[login_name].get(path or "/")
        assert response.content_type == "application/json"
        data = response.json
        where = f"{portal_type} at {path or '/'}"
        assert SUMMARY_KEYS <= set(data), where
        assert data["@id"] == BASE + path, where
        assert data["@type"] == portal_type, where
        assert data["id"] == path.rsplit("/", 1)[-1], where
        assert isinstance(data["title"], str) and (data["title"] or portal_type == "Site")
        assert data["review_state"] == state, where
        assert data["created"] == CREATED and data["modified"] == CREATED, where
        datetime.fromisoformat(data["created"])
        if container:
            assert isinstance(data["items"], list), where
            assert data["items_total"] == len(data["items"]), where
            assert data["batching"]["@id"].startswith(BASE + path), where
            for item in data["items"]:
                assert SUMMARY_KEYS <= set(item), where
                assert item["@id"].startswith(BASE + path + "/"), where
        else:
            assert "items" not in data and "items_total" not in data, where
        seen_types.add(portal_type)
    from cabinet.models import CONTENT_TYPES
    assert seen_types == set(CONTENT_TYPES), "every type of content is checked here"


def test_type_fields_are_in_the_json(demo, api):
    martin = api("dr.martin")
    patient = martin.get(LEROY).json
    assert (patient["first_name"], patient["last_name"]) == ("Léa", "Leroy")
    assert patient["birth_date"] == "1990-04-12"
    document = martin.get(f"{DOCS}/consentement").json
    assert document["needs_signature"] is True
    assert document["title"] == "Consentement éclairé"
    questionnaire = martin.get(f"{QUESTIONNAIRES}/suivi").json
    assert questionnaire["answers"] == {"douleur": 2}


def test_listing_items_are_what_the_user_may_view(demo, api):
    martin = api("dr.martin").get(DOCS).json
    assert martin["items_total"] == 4
    assert {i["id"] for i in martin["items"]} == {"consentement", "devis", "radio",
                                                  "ordonnance"}
    item = next(i for i in martin["items"] if i["id"] == "devis")
    assert item == {"@id": BASE + f"{DOCS}/devis", "@type": "Document", "id": "devis",
                    "title": "Devis de traitement", "review_state": "pending",
                    "created": CREATED, "modified": CREATED}
    # the patient sees the documents sent to her, not the drafts or withdrawn ones
    leroy = api("p.leroy").get(DOCS).json
    assert leroy["items_total"] == 2
    assert {i["id"] for i in leroy["items"]} == {"consentement", "radio"}


@pytest.fixture
def many_patients(demo, db):
    with db() as request:
        patients = get_root(request)["cabinets"]["parc"]["patients"]
        for n in range(120):
            add_node(request.dbsession, request.registry, patients, "Patient",
                     name=f"p{n:03d}", title=f"Patient {n:03d}", first_name="P",
                     last_name=f"{n:03d}")
    return 125          # and the 5 of the demo


def test_container_pages_of_50_with_total(many_patients, api):
    martin = api("dr.martin")
    url = f"{PARC}/patients"
    first = martin.get(url).json
    assert first["items_total"] == many_patients
    assert len(first["items"]) == 50
    batching = first["batching"]
    assert "prev" not in batching
    assert parse_qs(urlsplit(batching["next"]).query)["b_start"] == ["50"]
    assert parse_qs(urlsplit(batching["last"]).query)["b_start"] == ["100"]

    names, sizes, page = [], [], first
    while True:
        assert page["items_total"] == many_patients
        sizes.append(len(page["items"]))
        names += [item["id"] for item in page["items"]]
        if "next" not in page["batching"]:
            break
        assert urlsplit(page["batching"]["next"]).path == url
        page = martin.get(page["batching"]["next"]).json
    assert sizes == [50, 50, 25]
    assert len(names) == len(set(names)) == many_patients
    assert {f"p{n:03d}" for n in range(120)} | {"leroy", "bernard", "muller",
                                                "schmit", "hugo-leroy"} == set(names)
    assert "prev" in page["batching"]

    explicit = martin.get(url, params={"b_start": 100, "b_size": 50}).json
    assert [i["id"] for i in explicit["items"]] == names[100:]
    assert len(martin.get(url, params={"b_size": 7}).json["items"]) == 7


def test_container_batching_params_are_checked(demo, api):
    martin = api("dr.martin")
    for params in ({"b_start": "-1"}, {"b_size": "0"}, {"b_size": "100000"},
                   {"b_start": "ten"}, {"b_start": "9" * 30}):
        response = martin.get(f"{PARC}/patients", params=params, status=400)
        assert response.json["type"] == "BadRequest"
        assert response.json["message"]


def test_batching_links_keep_every_query_parameter(demo, api):
    """@search with a repeated parameter: each page's links repeat the same query."""
    martin = api("dr.martin")
    response = martin.get("/@search", params=[
        ("portal_type", "Document"), ("portal_type", "QuestionnaireResponse"),
        ("path", LEROY), ("sort_on", "id"), ("b_size", "3")])
    total = response.json["items_total"]
    assert total == 7
    seen = []
    page = response.json
    while True:
        seen += [(i["@type"], i["id"]) for i in page["items"]]
        if "next" not in page["batching"]:
            break
        query = parse_qs(urlsplit(page["batching"]["next"]).query)
        assert sorted(query["portal_type"]) == ["Document", "QuestionnaireResponse"]
        page = martin.get(page["batching"]["next"]).json
        assert page["items_total"] == total
    assert len(seen) == len(set(seen)) == total


# -- creating --------------------------------------------------------------------------------

def test_create_returns_201_with_location(demo, api):
    martin = api("dr.martin")
    response = martin.post(f"{PARC}/patients", {
        "@type": "Patient", "title": "Jean Dupuis", "first_name": "Jean",
        "last_name": "Dupuis", "birth_date": "1970-01-02", "phone": "+352621000009",
        "email": "jean@example.org"}, status=201)
    location = response.headers["Location"]
    assert location == BASE + f"{PARC}/patients/jean-dupuis"
    assert response.json["@id"] == location
    assert response.json["@type"] == "Patient"
    assert response.json["review_state"] == "active"
    data = martin.get(location).json
    assert data["birth_date"] == "1970-01-02" and data["title"] == "Jean Dupuis"
    assert {i["id"] for i in data["items"]} == {"appointments", "documents", "imaging",
                                                "payments", "questionnaires"}
    assert martin.get(f"{PARC}/patients").json["items_total"] == 6


def test_create_in_a_patient_goes_to_its_folder(demo, api):
    martin = api("dr.martin")
    response = martin.post(LEROY, {"@type": "Document", "id": "bilan", "title": "Bilan",
                                   "description": "", "needs_signature": False},
                           status=201)
    assert response.headers["Location"] == BASE + f"{DOCS}/bilan"
    assert response.json["review_state"] == "pending"
    response = martin.post(QUESTIONNAIRES, {"@type": "QuestionnaireResponse",
                                            "title": "Allergies", "answers": None},
                           status=201)
    assert response.headers["Location"] == BASE + f"{QUESTIONNAIRES}/allergies"
    # what GET returns can be sent back
    data = martin.get(f"{QUESTIONNAIRES}/allergies").json
    assert data["answers"] is None
    martin.patch(f"{QUESTIONNAIRES}/allergies", {"title": data["title"],
                                                 "answers": data["answers"]})
    martin.patch(f"{QUESTIONNAIRES}/allergies", {"answers": {"penicilline": "oui"}})
    assert martin.get(f"{QUESTIONNAIRES}/allergies").json["answers"] == {
        "penicilline": "oui"}


def test_create_is_checked_against_permissions(demo, api, db):
    before = count_nodes(db)
    leroy = api("p.leroy")             # views her record, may add nothing to it
    response = leroy.post(DOCS, {"@type": "Document", "title": "Mine",
                                 "needs_signature": False}, status=403)
    assert response.json["type"] == "Forbidden"
    leroy.post(f"{PARC}/patients", {"@type": "Patient", "title": "X", "first_name": "X",
                                    "last_name": "X", "phone": "", "email": ""},
               status=403)
    # a professional adds no delegation to another professional
    api("dr.weber").post("/professionals/martin/delegations",
                         {"@type": "Delegation", "title": "D", "start_date": "2026-03-10",
                          "end_date": None, "can_sign": True}, status=403)
    assert count_nodes(db) == before


def test_create_refuses_a_type_the_container_does_not_hold(demo, api, db):
    before = count_nodes(db)
    martin = api("dr.martin")
    for body in ({"@type": "Patient", "title": "x"}, {"title": "no type"},
                 {"@type": "Nonsense", "title": "x"}, {"@type": ["Document"], "title": "x"}):
        response = martin.post(DOCS, body, status=422)
        assert response.json["type"] == "ValidationError"
    assert count_nodes(db) == before


def test_duplicate_id_is_409(demo, api, db):
    martin = api("dr.martin")
    response = martin.post(DOCS, {"@type": "Document", "id": "devis",
                                  "title": "Autre devis"}, status=409)
    assert response.json["type"] == "Conflict"
    assert "devis" in response.json["message"]
    assert node_state(db, f"{DOCS}/devis")[0] == "Devis de traitement"


def test_invalid_id_is_422(demo, api):
    martin = api("dr.martin")
    for name in ("Has Spaces", "../up", "", "a" * 101, 42, "@workflow"):
        response = martin.post(DOCS, {"@type": "Document", "id": name, "title": "X"},
                               status=422)
        assert response.json["type"] == "ValidationError"


# -- editing and deleting, by workflow state ---------------------------------------------

def test_edit_a_pending_document(demo, api, clock, db):
    clock.advance(days=1)
    martin = api("dr.martin")
    response = martin.patch(f"{DOCS}/devis", {"title": "Devis révisé",
                                              "description": "Implant 36"})
    assert response.json["title"] == "Devis révisé"
    assert response.json["description"] == "Implant 36"
    assert response.json["modified"] == "2026-03-11T09:00:00+00:00"
    assert response.json["created"] == CREATED
    data = martin.get(f"{DOCS}/devis").json
    assert (data["title"], data["description"]) == ("Devis révisé", "Implant 36")
    history = martin.get(f"{DOCS}/devis/@history").json
    assert history[0]["action"] == "edit"
    assert history[0]["actor"]["id"] == "dr.martin"


@pytest.mark.parametrize("name, state", [("consentement", "sent"), ("radio", "signed"),
                                         ("ordonnance", "withdrawn")])
def test_documents_past_pending_cannot_be_edited(demo, api, db, name, state):
    before = node_state(db, f"{DOCS}/{name}")
    assert before[1] == state
    # a signed document can never change (issue #4): 409 rather than 403
    signed = state == "signed"
    response = api("dr.martin").patch(f"{DOCS}/{name}", {"title": "Changed"},
                                      status=409 if signed else 403)
    assert response.json["type"] == ("Conflict" if signed else "Forbidden")
    assert node_state(db, f"{DOCS}/{name}") == before


def test_edit_follows_the_state_after_a_transition(demo, api):
    martin = api("dr.martin")
    martin.patch(f"{DOCS}/devis", {"title": "Devis v2"}, status=200)
    martin.post(f"{DOCS}/devis/@workflow/send", {})
    martin.patch(f"{DOCS}/devis", {"title": "Devis v3"}, status=403)
    martin.post(f"{DOCS}/devis/@workflow/withdraw", {})
    martin.patch(f"{DOCS}/devis", {"title": "Devis v3"}, status=403)
    assert martin.get(f"{DOCS}/devis").json["title"] == "Devis v2"


def test_patient_cannot_edit_her_record(demo, api, db):
    before = node_state(db, LEROY)
    api("p.leroy").patch(LEROY, {"title": "Someone else"}, status=403)
    api("p.leroy").patch(f"{DOCS}/consentement", {"title": "x"}, status=403)
    assert node_state(db, LEROY) == before


def test_delete_by_state(demo, api, db):
    martin = api("dr.martin")
    response = martin.delete(f"{DOCS}/devis", status=204)
    assert response.body == b""
    martin.get(f"{DOCS}/devis", status=404)
    assert node_state(db, f"{DOCS}/devis") is None
    # withdrawn documents may be deleted; sent and signed ones not
    martin.delete(f"{DOCS}/ordonnance", status=204)
    for name in ("consentement", "radio"):
        response = martin.delete(f"{DOCS}/{name}", status=403)
        assert response.json["type"] == "Forbidden"
        assert node_state(db, f"{DOCS}/{name}") is not None
    assert martin.get(DOCS).json["items_total"] == 2
    # the parent's history tells what was deleted
    assert any(h["action"] == "delete" and h["details"]["id"] == "devis"
               for h in martin.get(DOCS + "/@history").json)


def test_patient_cannot_delete(demo, api, db):
    api("p.leroy").delete(f"{DOCS}/consentement", status=403)
    api("dr.martin").delete(LEROY, status=403)    # only an administrator may
    assert node_state(db, f"{DOCS}/consentement") is not None
    assert node_state(db, LEROY) is not None


# -- bad bodies ---------------------------------------------------------------------------------

FORBIDDEN_KEYS = [
    {"review_state": "signed"}, {"state": "signed"}, {"owner": "dr.martin"},
    {"owner_id": 1}, {"path": "/cabinets/"}, {"parent_id": 1}, {"id": "renamed"},
    {"@type": "Patient"}, {"@id": "http://localhost/x"}, {"version": 99},
    {"created": "2020-01-01T00:00:00"}, {"modified": "2020-01-01T00:00:00"},
    {"type": "patient"}, {"user_id": 1},
]


@pytest.mark.parametrize("extra", FORBIDDEN_KEYS, ids=lambda e: next(iter(e)))
def test_mass_assignment_is_refused_on_edit(demo, api, db, extra):
    before = node_state(db, f"{DOCS}/devis")
    response = api("dr.martin").patch(f"{DOCS}/devis", {"title": "Hacked", **extra},
                                      status=422)
    assert response.json["type"] == "ValidationError"
    assert next(iter(extra)) in str(response.json["errors"])
    assert node_state(db, f"{DOCS}/devis") == before


@pytest.mark.parametrize("extra", [{"review_state": "signed"}, {"owner": "p.leroy"},
                                   {"path": "/elsewhere/"}, {"state": "signed"},
                                   {"owner_id": 1}, {"created": "2020-01-01T00:00:00"}],
                         ids=lambda e: next(iter(e)))
def test_mass_assignment_is_refused_on_create(demo, api, db, extra):
    before = count_nodes(db)
    response = api("dr.martin").post(DOCS, {"@type": "Document", "title": "New",
                                            "needs_signature": True, **extra}, status=422)
    assert response.json["type"] == "ValidationError"
    assert count_nodes(db) == before


@pytest.mark.parametrize("body", [b"{not json", b'{"title": "x",}', b"[1, 2]", b'"text"',
                                  b"\xff\xfe\x00", b"[" * 100_000, b"{" * 50_000],
                         ids=["syntax", "trailing-comma", "array", "string", "bytes",
                              "deep-array", "deep-object"])
def test_malformed_json_is_400(demo, api, db, body):
    martin = api("dr.martin")
    before = node_state(db, f"{DOCS}/devis")
    count = count_nodes(db)
    headers = {**martin.headers, "Content-Type": "application/json"}
    for method, url in (("PATCH", f"{DOCS}/devis"), ("POST", DOCS),
                        ("POST", f"{DOCS}/devis/@workflow/send"), ("POST", "/@login")):
        response = martin.testapp.request(url, method=method, body=body, headers=headers,
                                          status=400)
        assert response.content_type == "application/json"
        assert response.json["type"] == "BadRequest", (method, url)
        assert isinstance(response.json["message"], str) and response.json["message"]
    assert node_state(db, f"{DOCS}/devis") == before
    assert count_nodes(db) == count


def test_wrong_field_types_are_422_per_field(demo, api, db):
    martin = api("dr.martin")
    before = node_state(db, f"{DOCS}/devis")
    response = martin.patch(f"{DOCS}/devis", {"title": 5, "needs_signature": "yes",
                                              "description": ["a"]}, status=422)
    assert response.json["type"] == "ValidationError"
    assert set(response.json["errors"]) == {"title", "needs_signature", "description"}
    assert node_state(db, f"{DOCS}/devis") == before

    response = martin.patch(LEROY, {"birth_date": "31/12/1999", "email": 42,
                                    "phone": "0" * 33}, status=422)
    assert set(response.json["errors"]) == {"birth_date", "email", "phone"}
    response = martin.post(QUESTIONNAIRES, {"@type": "QuestionnaireResponse",
                                            "title": "", "answers": "yes"}, status=422)
    assert set(response.json["errors"]) == {"title", "answers"}
    response = martin.post(DOCS, {"@type": "Document", "title": "x" * 501,
                                  "needs_signature": None}, status=422)
    assert "title" in response.json["errors"]


def test_text_with_nul_characters_is_refused(demo, api, db):
    """PostgreSQL cannot store NUL in text: refused as bad input, never a 500."""
    martin = api("dr.martin")
    before = node_state(db, f"{DOCS}/devis")
    response = martin.patch(f"{DOCS}/devis", {"title": "a\x00b"}, status=400)
    assert response.json["type"] == "BadRequest"
    martin.post(f"{DOCS}/devis/@workflow/send", {"comment": "\x00"}, status=400)
    martin.post(DOCS, {"@type": "Document", "title": "x", "needs_signature": False,
                       "description": "\x00"}, status=400)
    assert node_state(db, f"{DOCS}/devis") == before


# -- HTML pages ---------------------------------------------------------------------------------

def page_summary(page):
    """What a person sees on a resource page."""
    html = page.html
    badge = html.select_one(".node-head .badge")
    transitions = html.select_one("form.transitions")
    buttons = [b["value"] for b in transitions.select("button[name=transition]")] \
        if transitions else []
    listings = {}
    for section in html.select("section.listing"):
        link = section.select_one("h2 a")["href"]
        listings[urlsplit(link).path] = {
            "total": section.select_one("h2 .count").get_text(strip=True),
            "rows": [a.get_text(strip=True) for a in section.select("tbody tr td:first-child a")],
        }
    return {"title": html.h1.get_text(strip=True), "state": badge["data-state"],
            "badge": badge.get_text(strip=True), "buttons": sorted(buttons),
            "listings": listings, "csrf": transitions.select_one(
                "input[name=csrf_token]")["value"] if transitions else None}


PAGES = {
    # path: (title, state, state title, buttons, {listing: total})
    "/": ("Cabinet", "published", "Publié", [],
          {"/cabinets": "1", "/professionals": "2", "/spaces": "0"}),
    PARC: ("Cabinet dentaire du Parc", "open", "Ouvert", [],
           {f"{PARC}/patients": "5", f"{PARC}/questionnaire-templates": "2"}),
    LEROY: ("Léa Leroy", "active", "Actif", [],
            {DOCS: "4", QUESTIONNAIRES: "3", f"{LEROY}/appointments": "3",
             f"{LEROY}/payments": "3", f"{LEROY}/imaging": "4"}),
    f"{DOCS}/consentement": ("Consentement éclairé", "sent", "Envoyé", ["withdraw"], {}),
    f"{DOCS}/devis": ("Devis de traitement", "pending", "En attente", ["send"], {}),
    f"{QUESTIONNAIRES}/suivi": ("Suivi post-opératoire", "filled", "Rempli",
                                ["reopen", "validate"], {}),
    f"{QUESTIONNAIRES}/anamnese": ("Questionnaire médical", "sent", "Envoyé", [], {}),
    # the demo's delegations of dr.martin: sec.dupont (active) and an invitation
    "/professionals/martin": ("Dr Paul Martin", "active", "Actif", [],
                              {"/professionals/martin/delegations": "2"}),
}


@pytest.mark.parametrize("path", list(PAGES))
def test_pages_of_the_tree(demo, testapp, api, path):
    title, state, state_title, buttons, listings = PAGES[path]
    login(testapp, "dr.martin")
    page = testapp.get(path)
    assert page.content_type == "text/html"
    seen = page_summary(page)
    assert seen["title"] == title
    assert (seen["state"], seen["badge"]) == (state, state_title)
    assert seen["buttons"] == buttons
    # the buttons are those the API offers this user
    offered = api("dr.martin").get(f"{path.rstrip('/')}/@workflow").json["transitions"]
    assert sorted(t["id"] for t in offered) == buttons
    assert {path: listing["total"] for path, listing in seen["listings"].items()} == listings
    for listing in seen["listings"].values():
        assert len(listing["rows"]) == min(int(listing["total"]), 50)


def test_pages_show_what_this_user_may_see(demo, testapp):
    login(testapp, "p.leroy")
    seen = page_summary(testapp.get(LEROY))
    assert seen["listings"][DOCS]["total"] == "2"
    assert sorted(seen["listings"][DOCS]["rows"]) == ["Consentement éclairé",
                                                      "Radiographie panoramique"]
    assert seen["listings"][QUESTIONNAIRES]["total"] == "3"
    assert page_summary(testapp.get(f"{DOCS}/consentement"))["buttons"] == ["sign"]
    assert page_summary(testapp.get(f"{QUESTIONNAIRES}/anamnese"))["buttons"] == ["fill"]
    testapp.get(f"{DOCS}/devis", status=403)


def test_listing_page_of_many_patients(many_patients, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(f"{PARC}/patients")
    seen = page_summary(page)
    assert seen["listings"][f"{PARC}/patients"]["total"] == str(many_patients)
    assert len(seen["listings"][f"{PARC}/patients"]["rows"]) == 50
    following = page.html.select_one("a[rel=next]")["href"]
    page = testapp.get(following)
    assert len(page_summary(page)["listings"][f"{PARC}/patients"]["rows"]) == 50
    assert page_summary(testapp.get(PARC))["listings"][f"{PARC}/patients"]["total"] \
        == str(many_patients)


def test_a_transition_button_works(demo, testapp, db):
    login(testapp, "dr.martin")
    page = testapp.get(f"{DOCS}/consentement")
    form = page.forms[[k for k, f in page.forms.items()
                       if f.action.endswith("/@@workflow")][0]]
    response = form.submit("transition", value="withdraw", status=303)
    assert response.location == BASE + f"{DOCS}/consentement"
    seen = page_summary(response.follow())
    assert (seen["state"], seen["badge"]) == ("withdrawn", "Retiré")
    assert seen["buttons"] == ["send"]
    assert node_state(db, f"{DOCS}/consentement")[1] == "withdrawn"


def test_create_with_only_a_title_uses_the_defaults(demo, api):
    martin = api("dr.martin")
    response = martin.post(LEROY, {"@type": "Document", "title": "Note"}, status=201)
    assert response.json["description"] == ""
    assert response.json["needs_signature"] is False
    response = martin.post(f"{PARC}/patients", {"@type": "Patient", "title": "Anonyme"},
                           status=201)
    assert response.json["email"] == "" and response.json["birth_date"] is None
    response = martin.post(LEROY, {"@type": "Document"}, status=422)
    assert "title" in response.json["errors"]
