"""Mandates (S4): creating with a code shown once, activating with the code in the
provider space (wrong, expired, used codes; the try limit), revoking, ending at the end
date without the worker, and acting for a chosen mandant."""
import hashlib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cabinet.models import LocalRole, Mandate, Node, User
from tests.conftest import login

TODAY = date(2026, 3, 10)        # the test clock (conftest settings)
MANDATES = "/spaces/sante-services/mandates"
CODE = re.compile(r"^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$")


def new_mandate(domain="documents", provider="fidu-conseil", deadline=TODAY + timedelta(days=10),
                end=TODAY + timedelta(days=100), **extra):
    return {"@type": "Mandate", "provider": provider, "domain": domain,
            "activation_deadline": deadline.isoformat(), "end_date": end.isoformat(),
            **extra}


def mandate(db, path):
    with db() as request:
        node = request.dbsession.scalar(select(Mandate).where(Mandate.path == path + "/"))
        return {"state": node.state, "code_hash": node.code_hash, "domain": node.domain,
                "id": node.id}


def path_of(response):
    data = response if isinstance(response, dict) else response.json
    return data["@id"].replace("http://localhost", "")


@pytest.fixture
def weber(demo, api):
    return api("dr.weber")


@pytest.fixture
def fidu(demo, api):
    return api("fidu.admin")


@pytest.fixture
def second_mandant(demo, db):
    """/spaces/boulangerie, administered by dr.martin (another mandant)."""
    from cabinet.content import add_node
    with db() as request:
        session = request.dbsession
        spaces = session.scalar(select(Node).where(Node.path == "/spaces/"))
        space = add_node(session, request.registry, spaces, "Space", name="boulangerie",
                         title="Boulangerie Kremer")
        martin = session.scalar(select(User).where(User.login == "dr.martin"))
        session.add(LocalRole(node_id=space.id, principal=martin.principal,
                              role="space_admin"))
    return "/spaces/boulangerie"


@pytest.fixture
def fidu_member(demo, db):
    """p.leroy: a member (without signature) of the provider space."""
    with db() as request:
        session = request.dbsession
        space = session.scalar(select(Node).where(Node.path == "/spaces/fidu-conseil/"))
        leroy = session.scalar(select(User).where(User.login == "p.leroy"))
        session.add(LocalRole(node_id=space.id, principal=leroy.principal,
                              role="space_member"))


def end_demo_mandate(weber):
    """The demo's active mandate gives fidu.admin access to sante-services already."""
    weber.post(f"{MANDATES}/facturation-fidu/@workflow/revoke")


# -- creating -------------------------------------------------------------------------

def test_mandant_creates_a_mandate_and_sees_its_code_once(weber, db):
    response = weber.post(MANDATES, new_mandate(), status=201)
    data = response.json
    assert data["@type"] == "Mandate" and data["review_state"] == "invited"
    assert data["domain"] == "documents"
    assert data["provider"]["title"] == "Fidu Conseil SA"
    assert data["mandant"]["title"] == "Santé Services SARL"
    assert data["end_date"] == (TODAY + timedelta(days=100)).isoformat()
    assert CODE.match(data["activation_code"]), data["activation_code"]
    assert "une seule fois" in data["activation_code_notice"]
    assert response.headers["Location"] == data["@id"]
    stored = mandate(db, path_of(response))
    code = data["activation_code"].replace("-", "")
    assert stored["code_hash"] == hashlib.sha256(code.encode()).hexdigest()
    # the code is never shown again
    again = weber.get(path_of(response)).json
    assert "activation_code" not in again and code not in str(again)
    assert again["review_state"] == "invited" and again["domain"] == "documents"


def test_two_mandates_get_different_codes(weber):
    one = weber.post(MANDATES, new_mandate("documents"), status=201).json
    two = weber.post(MANDATES, new_mandate("comptabilite"), status=201).json
    assert one["activation_code"] != two["activation_code"]


def test_a_mandate_can_be_posted_to_the_space_itself(weber):
    response = weber.post("/spaces/sante-services", new_mandate(), status=201)
    assert response.json["@id"].startswith("http://localhost" + MANDATES + "/")


@pytest.mark.parametrize("change, field, message", [
    ({"activation_deadline": (TODAY - timedelta(days=1)).isoformat()},
     "activation_deadline", "déjà passée"),
    ({"end_date": (TODAY + timedelta(days=10)).isoformat()}, "end_date", "suivre"),
    ({"provider": "nulle-part"}, "provider", "Aucun espace"),
    ({"provider": "sante-services"}, "provider", "lui-même"),
    ({"provider": "/cabinets/parc"}, "provider", "Aucun espace"),
    ({"domain": "tout"}, "domain", "is not one of"),
    ({"end_date": "31/12/2026"}, "end_date", "Invalid date"),
    ({"provider": None}, "provider", ""),
    ({"surprise": 1}, "", "Unrecognized"),
])
def test_invalid_mandates_are_refused_with_the_field(weber, db, change, field, message):
    before = weber.get(MANDATES).json["items_total"]
    body = new_mandate(**{k: v for k, v in change.items() if k == "surprise"})
    body.update({k: v for k, v in change.items() if k != "surprise"})
    if change.get("provider", 1) is None:
        del body["provider"]
    response = weber.post(MANDATES, body, status=422)
    assert response.json["type"] == "ValidationError"
    assert field in response.json["errors"]
    assert message in response.json["errors"][field]
    assert weber.get(MANDATES).json["items_total"] == before       # nothing written
    # the demo's mandate is still active: nothing was superseded
    assert mandate(db, f"{MANDATES}/facturation-fidu")["state"] == "active"


def test_the_deadline_may_be_today(weber):
    weber.post(MANDATES, new_mandate(deadline=TODAY), status=201)


def test_only_the_mandant_admin_creates_mandates(demo, api, weber):
    for user in ("fidu.admin", "dr.martin", "sec.dupont"):
        response = api(user).post(MANDATES, new_mandate(), status=403)
        assert response.json["type"] == "Forbidden"
    assert weber.get(MANDATES).json["items_total"] == 1


def test_a_new_mandate_for_the_domain_supersedes_the_old_one(weber, db):
    old = f"{MANDATES}/facturation-fidu"
    other = weber.post(MANDATES, new_mandate("documents"), status=201)
    first = weber.post(MANDATES, new_mandate("facturation"), status=201)
    assert mandate(db, old)["state"] == "ended"
    history = weber.get(old + "/@history").json
    revoke = next(h for h in history if h["transition"] == "revoke")
    assert "Remplacé par le mandat" in revoke["comments"]
    assert revoke["actor"]["id"] == "dr.weber"
    second = weber.post(MANDATES, new_mandate("facturation"), status=201)
    assert mandate(db, path_of(first))["state"] == "ended"
    assert mandate(db, path_of(second))["state"] == "invited"
    assert mandate(db, path_of(other))["state"] == "invited"   # another domain


# -- activating -------------------------------------------------------------------------

def test_provider_activates_with_the_code(weber, fidu, db):
    created = weber.post(MANDATES, new_mandate(), status=201).json
    code = created["activation_code"].lower().replace("-", " ")   # as typed
    response = fidu.post("/spaces/fidu-conseil/@activate-mandate", {"code": code})
    assert response.json["review_state"] == "active"
    assert "Santé Services SARL" in response.json["message"]
    history = weber.get(path_of(created) + "/@history").json
    activate = next(h for h in history if h["transition"] == "activate")
    assert activate["actor"]["id"] == "fidu.admin"
    assert "Fidu Conseil SA" in activate["comments"]
    # used: a second time is a conflict
    again = fidu.post("/spaces/fidu-conseil/@activate-mandate",
                      {"code": created["activation_code"]}, status=409)
    assert "déjà été utilisé" in again.json["message"]


@pytest.mark.parametrize("code", ["", "ABC", "ABCD-EFGH-JKMN", "0000-1111-OOOO", 12])
def test_wrong_codes_get_a_clear_message(fidu, code):
    response = fidu.post("/spaces/fidu-conseil/@activate-mandate", {"code": code},
                         status=422)
    assert response.json["errors"]["code"]


def test_a_code_entered_in_another_space_is_wrong(weber, second_mandant, api):
    created = weber.post(MANDATES, new_mandate(), status=201).json
    martin = api("dr.martin")
    response = martin.post(f"{second_mandant}/@activate-mandate",
                           {"code": created["activation_code"]}, status=422)
    assert "pas valable pour cet espace" in response.json["message"]


def test_expired_codes_are_refused(weber, api, clock, db):
    created = weber.post(MANDATES, new_mandate(deadline=TODAY + timedelta(days=5)),
                         status=201).json
    clock.set(TODAY + timedelta(days=6))
    fidu = api("fidu.admin")            # a token of the new day
    response = fidu.post("/spaces/fidu-conseil/@activate-mandate",
                         {"code": created["activation_code"]}, status=422)
    assert "date limite" in response.json["message"]
    assert mandate(db, path_of(created))["state"] == "invited"
    clock.set(TODAY + timedelta(days=5))         # the deadline day itself still works
    fidu.post("/spaces/fidu-conseil/@activate-mandate",
              {"code": created["activation_code"]}, status=200)


def test_superseded_codes_are_refused(weber, fidu):
    first = weber.post(MANDATES, new_mandate(), status=201).json
    weber.post(MANDATES, new_mandate(), status=201)
    response = fidu.post("/spaces/fidu-conseil/@activate-mandate",
                         {"code": first["activation_code"]}, status=409)
    assert response.json["review_state"] == "ended"


def test_wrong_codes_are_limited_per_provider_space(weber, fidu):
    created = weber.post(MANDATES, new_mandate(), status=201).json
    for _ in range(5):
        fidu.post("/spaces/fidu-conseil/@activate-mandate", {"code": "AAAA-BBBB-CCCC"},
                  status=422)
    response = fidu.post("/spaces/fidu-conseil/@activate-mandate",
                         {"code": created["activation_code"]}, status=429)
    assert response.json["type"] == "TooManyRequests"


def test_a_right_code_does_not_count(weber, fidu):
    for _ in range(6):
        created = weber.post(MANDATES, new_mandate(), status=201).json
        fidu.post("/spaces/fidu-conseil/@activate-mandate",
                  {"code": created["activation_code"]}, status=200)


def test_only_the_provider_admin_enters_codes(weber, fidu_member, api):
    created = weber.post(MANDATES, new_mandate(), status=201).json
    leroy = api("p.leroy")
    leroy.post("/spaces/fidu-conseil/@activate-mandate",
               {"code": created["activation_code"]}, status=403)
    api("dr.martin").post("/spaces/fidu-conseil/@activate-mandate",
                          {"code": created["activation_code"]}, status=403)


def test_the_generic_transition_needs_the_code(weber, fidu):
    """@workflow/activate is no way around the code: the provider may not even see the
    invited mandate, and its mandant fails the guard."""
    created = weber.post(MANDATES, new_mandate(), status=201).json
    fidu.post(path_of(created) + "/@workflow/activate", status=403)
    response = weber.post(path_of(created) + "/@workflow/activate", status=409)
    assert response.json["guard"] == "activation_code"
    assert weber.get(path_of(created)).json["review_state"] == "invited"


def test_the_guard_checks_code_provider_and_deadline(weber, db, clock):
    from cabinet.mandates import PresentedCode, activation_problem, normalize_code
    created = weber.post(MANDATES, new_mandate(deadline=TODAY), status=201).json
    code = normalize_code(created["activation_code"])
    with db() as request:
        node = request.dbsession.scalar(select(Mandate).where(
            Mandate.path == path_of(created) + "/"))
        fidu = request.dbsession.scalar(select(Node).where(Node.path == "/spaces/fidu-conseil/"))
        mandant = request.dbsession.scalar(select(Node).where(
            Node.path == "/spaces/sante-services/"))
        assert "code d'activation" in activation_problem(request, node)
        request.presented_mandate_code = PresentedCode(code, fidu)
        assert activation_problem(request, node) is None
        request.presented_mandate_code = PresentedCode("A" * 12, fidu)
        assert "pas valable" in activation_problem(request, node)
        request.presented_mandate_code = PresentedCode(code, mandant)
        assert "pas valable" in activation_problem(request, node)
        clock.set(TODAY + timedelta(days=1))
        request.presented_mandate_code = PresentedCode(code, fidu)
        assert "date limite" in activation_problem(request, node)


# -- acting for the mandant ---------------------------------------------------------------

def activate(weber, fidu, mandant_api=None, mandates=MANDATES, **kw):
    created = (mandant_api or weber).post(mandates, new_mandate(**kw), status=201).json
    fidu.post("/spaces/fidu-conseil/@activate-mandate",
              {"code": created["activation_code"]}, status=200)
    return path_of(created)


def test_the_provider_acts_only_while_the_mandate_is_active(weber, fidu, fidu_member, api):
    end_demo_mandate(weber)
    leroy = api("p.leroy")
    fidu.get("/spaces/sante-services", status=403)
    created = weber.post(MANDATES, new_mandate(), status=201).json
    fidu.get("/spaces/sante-services", status=403)      # invited: nothing yet
    fidu.post("/spaces/fidu-conseil/@activate-mandate",
              {"code": created["activation_code"]}, status=200)
    assert fidu.get("/spaces/sante-services").json["title"] == "Santé Services SARL"
    leroy.get("/spaces/sante-services", status=200)     # every member of the provider
    api("dr.martin").get("/spaces/sante-services", status=403)
    # the mandatary sees its mandate but may not revoke it
    assert fidu.get(path_of(created)).json["review_state"] == "active"
    fidu.post(path_of(created) + "/@workflow/revoke", status=403)
    weber.post(path_of(created) + "/@workflow/revoke", status=200)
    fidu.get("/spaces/sante-services", status=403)


def test_past_its_end_date_a_mandate_grants_nothing_without_the_worker(weber, fidu,
                                                                        clock, db, api):
    end_demo_mandate(weber)
    path = activate(weber, fidu, end=TODAY + timedelta(days=30))
    clock.set(TODAY + timedelta(days=30))           # the end date itself: still in effect
    fidu = api("fidu.admin")
    fidu.get("/spaces/sante-services", status=200)
    clock.set(TODAY + timedelta(days=31))
    fidu = api("fidu.admin")
    assert mandate(db, path)["state"] == "active"   # the worker has not run
    fidu.get("/spaces/sante-services", status=403)
    assert fidu.get("/@act-for").json["available"] == []


def test_expire_due_ends_the_mandates_past_their_end_date(weber, fidu, clock, db, api):
    from cabinet.mandates import expire_due
    end_demo_mandate(weber)
    soon = activate(weber, fidu, domain="documents", end=TODAY + timedelta(days=30))
    later = activate(weber, fidu, domain="comptabilite", end=TODAY + timedelta(days=60))
    invited = path_of(weber.post(MANDATES, new_mandate("declarations",
                                                       end=TODAY + timedelta(days=20)),
                                 status=201))
    clock.set(TODAY + timedelta(days=20))          # the end date itself: nothing ends
    with db() as request:
        assert expire_due(request) == 0
    clock.set(TODAY + timedelta(days=30))
    with db() as request:
        assert expire_due(request) == 1
    assert mandate(db, invited)["state"] == "ended"
    assert mandate(db, soon)["state"] == "active"
    clock.set(TODAY + timedelta(days=31))
    with db() as request:
        assert expire_due(request) == 1
    assert mandate(db, soon)["state"] == "ended"
    assert mandate(db, later)["state"] == "active"
    weber = api("dr.weber")
    history = weber.get(soon + "/@history").json
    expire = next(h for h in history if h["transition"] == "expire")
    assert expire["actor"] is None and "Date de fin" in expire["comments"]
    with db() as request:
        assert expire_due(request) == 0


def test_a_provider_with_several_mandates_chooses_its_mandant(weber, fidu, api,
                                                              second_mandant):
    martin = api("dr.martin")
    other = activate(weber, fidu, martin, mandates=f"{second_mandant}/mandates",
                     domain="comptabilite")
    # two mandates in effect (the demo's and this one): none chosen, none applies
    choices = fidu.get("/@act-for").json
    assert choices["current"] is None
    assert {m["mandant"]["title"] for m in choices["available"]} == {
        "Santé Services SARL", "Boulangerie Kremer"}
    fidu.get("/spaces/sante-services", status=403)
    fidu.get(second_mandant, status=403)

    chosen = fidu.post("/@act-for", {"mandate": other}).json
    assert chosen["current"]["mandant"]["title"] == "Boulangerie Kremer"
    fidu.get(second_mandant, status=200)
    fidu.get("/spaces/sante-services", status=403)

    fidu.post("/@act-for", {"mandate": f"{MANDATES}/facturation-fidu"})
    fidu.get("/spaces/sante-services", status=200)
    fidu.get(second_mandant, status=403)

    # a mandate of someone else, or a made-up path, is refused
    refused = martin.post("/@act-for", {"mandate": other}, status=422)
    assert "mandate" in refused.json["errors"]
    fidu.post("/@act-for", {"mandate": "/spaces/sante-services"}, status=422)
    fidu.post("/@act-for", {"mandate": ""})        # back to one's own space
    fidu.get("/spaces/sante-services", status=403)


def test_acts_are_recorded_as_provider_for_mandant(weber, db):
    from cabinet.workflow import record_history
    with db() as request:
        fidu = request.dbsession.scalar(select(User).where(User.login == "fidu.admin"))
        request.__dict__["authenticated_user"] = fidu
        space = request.dbsession.scalar(select(Node).where(
            Node.path == "/spaces/sante-services/"))
        grant = request.has_permission("space:view", space)
        assert grant
        assert not request.has_permission("space:edit", space)
        record_history(request, space, "consult", grant=grant)
    history = weber.get("/spaces/sante-services/@history").json
    entry = next(h for h in history if h["action"] == "consult")
    assert entry["actor"]["id"] == "fidu.admin"
    assert entry["details"]["acting_for"]["text"] == "Fidu Conseil SA pour Santé Services SARL"
    assert entry["details"]["acting_for"]["mandate"] == f"{MANDATES}/facturation-fidu"


def test_search_agrees_with_the_acl_for_a_mandatary(weber, fidu, db, second_mandant, api):
    """What @search lists for the provider is exactly what the ACL lets it view."""
    martin = api("dr.martin")
    activate(weber, fidu, martin, mandates=f"{second_mandant}/mandates", domain="documents")
    with db() as request:
        paths = [p.rstrip("/") for p in request.dbsession.scalars(
            select(Node.path).where(Node.path.like("/spaces/%"), Node.type != "folder"))]
    seen = {}
    for choice in (f"{MANDATES}/facturation-fidu", "", f"{second_mandant}/mandates"):
        if choice.endswith("/mandates"):
            choice = next(m["@id"].replace("http://localhost", "")
                          for m in fidu.get("/@act-for").json["available"]
                          if m["mandant"]["title"] == "Boulangerie Kremer")
        fidu.post("/@act-for", {"mandate": choice})
        listed = {item["@id"].replace("http://localhost", "")
                  for item in fidu.get("/@search?path=/spaces&b_size=500").json["items"]}
        allowed = {p for p in paths if fidu.get(p, status="*").status_int == 200}
        assert listed == allowed, choice
        seen[choice] = listed
    assert f"{MANDATES}/facturation-fidu" in seen[f"{MANDATES}/facturation-fidu"]
    assert "/spaces/sante-services" in seen[f"{MANDATES}/facturation-fidu"]
    assert "/spaces/sante-services" not in seen[""]
    assert "/spaces/boulangerie" not in seen[""]
    assert "/spaces/fidu-conseil" in seen[""]


def test_a_mandatary_sees_its_own_mandate_not_the_mandants_others(weber, fidu, api,
                                                                  second_mandant):
    """The mandate's domain is its perimeter: acting under the demo's "facturation"
    mandate, Fidu sees the mandant's space and that mandate, not the mandant's mandates
    for other domains, whether given to another provider or to Fidu itself."""
    own = f"{MANDATES}/facturation-fidu"
    martin = api("dr.martin")                  # administrator of /spaces/boulangerie
    created = weber.post(MANDATES, new_mandate("comptabilite", provider="boulangerie"),
                         status=201).json
    martin.post(f"{second_mandant}/@activate-mandate",
                {"code": created["activation_code"]}, status=200)
    other_provider = path_of(created)
    assert fidu.get("/@act-for").json["current"]["@id"].endswith(own)
    fidu.get("/spaces/sante-services", status=200)
    assert fidu.get(own).json["review_state"] == "active"
    fidu.get(other_provider, status=403)
    listed = {item["@id"].replace("http://localhost", "") for item in fidu.get(
        "/@search?portal_type=Mandate&path=/spaces/sante-services").json["items"]}
    assert listed == {own}
    # the other provider, under its own mandate, sees only that one
    martin.post("/@act-for", {"mandate": other_provider})
    assert martin.get(other_provider).json["domain"] == "comptabilite"
    martin.get(own, status=403)

    # a second mandate to Fidu itself, for another domain: acting under one, the other
    # is out of sight
    declarations = activate(weber, fidu, domain="declarations")
    fidu.post("/@act-for", {"mandate": own})
    fidu.get(declarations, status=403)
    fidu.post("/@act-for", {"mandate": declarations})
    fidu.get(declarations, status=200)
    fidu.get(own, status=403)
    fidu.get("/spaces/sante-services", status=200)
    # the mandant's administrator sees them all
    for path in (own, other_provider, declarations):
        weber.get(path, status=200)


# -- pages ------------------------------------------------------------------------------

def test_the_mandant_pages(demo, testapp, clock):
    login(testapp, "dr.weber")
    page = testapp.get(MANDATES)
    assert "Mandats donnés à des prestataires" in page.text
    assert "Fidu Conseil SA" in page.text and "Facturation" in page.text
    assert "Actif" in page.text and "Révoquer" in page.text

    form = testapp.get(MANDATES + "/@@add").forms["mandate-form"]
    form["provider"] = "sante-services"
    form["domain"] = "documents"
    form["activation_deadline"] = "2026-03-01"
    form["end_date"] = "2026-03-05"
    bad = form.submit(status=422)
    assert "Un espace ne peut pas se donner un mandat à lui-même." in bad.text
    assert "La date limite d&#39;activation est déjà passée." in bad.text
    assert 'aria-invalid="true"' in bad.text

    form = bad.forms["mandate-form"]
    form["provider"] = "fidu-conseil"
    form["activation_deadline"] = "2026-03-20"
    form["end_date"] = "2026-12-31"
    done = form.submit(status=200)
    assert "Mandat créé" in done.text and "une seule fois" in done.text
    code = re.search(r'id="activation-code">([^<]+)<', done.text).group(1)
    assert CODE.match(code)
    assert done.headers["Cache-Control"].startswith("no-store")
    listing = testapp.get(MANDATES)
    assert "Documents" in listing.text and "En attente d&#39;activation" in listing.text \
        or "En attente d'activation" in listing.text
    assert code not in listing.text

    # revoke from the list
    revoke = next(f for f in listing.forms.values()
                  if f.action.endswith("/facturation-fidu/workflow"))
    revoke.submit(status=303)
    assert "Terminé" in testapp.get(MANDATES).text


def test_the_provider_pages(demo, testapp, api):
    weber = api("dr.weber")
    weber.post(f"{MANDATES}/facturation-fidu/@workflow/revoke")
    code = weber.post(MANDATES, new_mandate(), status=201).json["activation_code"]
    testapp.reset()
    login(testapp, "fidu.admin")
    page = testapp.get("/spaces/fidu-conseil/@@mandates-received")
    assert "Enregistrer un code d'accès" in page.text or \
        "Enregistrer un code d&#39;accès" in page.text
    assert "Santé Services SARL" in page.text

    form = page.forms["activate-form"]
    form["code"] = "ZZZZ-ZZZZ-ZZZZ"
    wrong = form.submit(status=422)
    assert "pas valable pour cet espace" in wrong.text
    form = wrong.forms["activate-form"]
    form["code"] = code
    done = form.submit(status=303).follow()
    assert "Mandat activé" in done.text

    home = testapp.get("/")
    assert "Agir pour" in home.text and "Santé Services SARL" in home.text
    selector = home.forms["act-for-form"]
    options = [value for value, _sel, _text in selector["mandate"].options]
    assert len(options) == 2                        # own space + the new mandate
    selector["mandate"] = options[1]
    home = selector.submit(status=303).follow()
    assert "Vous agissez pour" in home.text
    assert testapp.get("/spaces/sante-services").status_int == 200


def test_a_member_sees_received_mandates_without_the_form(demo, testapp, fidu_member):
    login(testapp, "p.leroy")
    page = testapp.get("/spaces/fidu-conseil/@@mandates-received")
    assert "Santé Services SARL" in page.text
    assert "activate-form" not in page.text


def test_a_mandatary_does_not_see_what_the_mandant_received(demo, testapp):
    login(testapp, "fidu.admin")            # acting for Santé Services (demo mandate)
    assert testapp.get("/spaces/sante-services").status_int == 200
    testapp.get("/spaces/sante-services/@@mandates-received", status=403)


def test_the_demo_has_a_provider_space(demo, api):
    fidu = api("fidu.admin")
    assert fidu.get("/spaces/fidu-conseil").json["title"] == "Fidu Conseil SA"
    current = fidu.get("/@act-for").json["current"]
    assert current["mandant"]["title"] == "Santé Services SARL"
    assert current["domain"] == "facturation"
