"""Questionnaire responses (issue #5, Q2-Q5): sending one, drafts and submission
(JSON and the deform page, errors shown in place), a double submission, the workflow
pending -> sent -> filled -> validated -> signed by the right people only (patient,
guardian with and without minors' access, staff, another cabinet, anonymous),
signing with a code and its evidence, the FHIR QuestionnaireResponse, and the
console's list with its filters and counts."""
import hashlib
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from cabinet.content import add_node
from cabinet.interfaces import ISmsGateway
from cabinet.models import Cabinet, LocalRole, Node, QuestionnaireResponse, User
from cabinet.questionnaire_response_fhir import validate as validate_fhir
from cabinet.terms import accept_current_terms
from tests.conftest import Api, login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
FORMS = f"{LEROY}/questionnaires"
ANAMNESE = f"{FORMS}/anamnese"           # the demo's: sent, to fill
SATISFACTION = f"{FORMS}/satisfaction"   # the demo's: validated, to sign
LEA = {"phone": "+352 621 123 456", "last_name": "Leroy", "first_name": "Léa",
       "birth_date": "1990-04-12"}
COMPLETE = {"note": 8, "accueil": "Bon"}


def path_of(item):
    return item["@id"].removeprefix("http://localhost")


def send(client, template="satisfaction", patient=LEROY, practitioner=None):
    body = {"@type": "QuestionnaireResponse", "template": template}
    if practitioner:
        body["practitioner"] = practitioner
    created = client.post(f"{patient}/questionnaires", body, status=201).json
    client.post(f"{path_of(created)}/@workflow/send")
    return path_of(created)


def last_code(registry):
    return re.search(r"\b(\d{6})\b",
                     registry.getUtility(ISmsGateway).outbox[-1]["text"]).group(1)


def stored(db, path):
    with db() as request:
        node = request.dbsession.scalar(select(QuestionnaireResponse).where(
            QuestionnaireResponse.path == path + "/"))
        return {"state": node.state, "answers": node.answers, "version": node.version,
                "sent_at": node.sent_at, "draft_saved_at": node.draft_saved_at}


def add_user(db, login_name, path=None, role=None):
    from cabinet.passwords import hash_password
    with db() as request:
        user = User(login=login_name, fullname=login_name, password_hash=hash_password("demo"))
        request.dbsession.add(user)
        request.dbsession.flush()
        accept_current_terms(request, user)
        if path:
            node = request.dbsession.scalar(select(Node).where(Node.path == path + "/"))
            request.dbsession.add(LocalRole(node_id=node.id, principal=user.principal,
                                            role=role))


@pytest.fixture
def other_cabinet(demo, db):
    """A second cabinet with its own template ("secret") and its own staff member."""
    from cabinet.questionnaire_templates.versions import write_first_version
    with db() as request:
        cabinets = request.dbsession.scalar(select(Node).where(Node.path == "/cabinets/"))
        cabinet = add_node(request.dbsession, request.registry, cabinets, "Cabinet",
                           name="autre", title="Autre cabinet")
        folder = cabinet["questionnaire-templates"]
        template = add_node(request.dbsession, request.registry, folder,
                            "QuestionnaireTemplate", name="secret", title="Secret")
        write_first_version(request.dbsession, request.registry, template, title="Secret",
                            description="", questions=[
                                {"id": "x", "type": "short_text", "text": "X"}])
    add_user(db, "staff.autre", "/cabinets/autre", "staff")
    return "/cabinets/autre"


# -- Q2: sending a questionnaire ------------------------------------------------------------

def test_staff_send_a_questionnaire_pinned_to_the_current_version(demo, api, clock, db):
    martin = api("dr.martin")
    created = martin.post(FORMS, {"@type": "QuestionnaireResponse", "template": "satisfaction",
                                  "practitioner": "weber"}, status=201)
    data = created.json
    assert created.location == data["@id"]
    assert data["review_state"] == "pending" and data["title"] == "Satisfaction"
    assert data["template"]["id"] == "satisfaction" and data["template_version"] == 1
    assert [q["id"] for q in data["questions"]] == ["note", "accueil", "commentaire"]
    assert data["practitioner"]["title"] == "Dr Eva Weber"
    assert data["sent_at"] is None
    clock.advance(hours=2)
    sent = martin.post(f"{path_of(data)}/@workflow/send").json
    assert sent["review_state"] == "sent"
    assert martin.get(path_of(data)).json["sent_at"] == "2026-03-10T11:00:00+00:00"
    assert stored(db, path_of(data))["sent_at"] == datetime(2026, 3, 10, 11, 0)


def test_a_new_template_version_does_not_change_a_response_sent(demo, api):
    martin = api("dr.martin")
    path = send(martin)
    template = f"{PARC}/questionnaire-templates/satisfaction"
    questions = martin.get(template).json["questions"]
    martin.patch(template, {"questions": questions[:1]})
    assert martin.get(template).json["current_version"] == 2
    assert len(martin.get(path).json["questions"]) == 3
    assert martin.get(path).json["template_version"] == 1
    newer = send(martin)
    assert martin.get(newer).json["template_version"] == 2


@pytest.mark.parametrize("body, field", [
    ({"template": "nope"}, "template"),
    ({"template": "secret"}, "template"),                 # another cabinet's template
    ({"template": "satisfaction", "practitioner": "personne"}, "practitioner"),
    ({"template": "satisfaction", "answers": {"note": 1}}, "answers"),
    ({"template": "satisfaction", "state": "signed"}, "state"),
    ({}, "title"),              # without a template: a free response needs a title
])
def test_sending_refuses_what_the_cabinet_does_not_hold(other_cabinet, api, db, body, field):
    response = api("dr.martin").post(FORMS, {"@type": "QuestionnaireResponse", **body},
                                     status=422)
    assert field in response.json["errors"]
    with db() as request:
        assert request.dbsession.scalar(select(Node.id).where(
            Node.parent_id == select(Node.id).where(Node.path == FORMS + "/")
            .scalar_subquery(), Node.name.like("secret%"))) is None


def test_only_staff_send(other_cabinet, api, testapp):
    body = {"@type": "QuestionnaireResponse", "template": "satisfaction"}
    api("p.leroy").post(FORMS, body, status=403)
    api("staff.autre").post(FORMS, body, status=403)
    testapp.post_json(FORMS, body, status=(302, 401, 403))
    path = send(api("dr.martin"))
    api("p.leroy").post(f"{path}/@workflow/send", status=409)


def test_the_send_form_on_the_patient_page(demo, testapp, api):
    login(testapp, "dr.martin")
    page = testapp.get(LEROY)
    form = page.forms[[f.action for f in page.forms.values()].index(
        f"http://localhost{LEROY}/@@send-questionnaire")]
    assert [o[0] for o in form["template"].options] == ["questionnaire-medical",
                                                        "satisfaction"]
    assert [o[0] for o in form["practitioner"].options] == ["", "weber", "martin"]
    form["template"], form["practitioner"] = "satisfaction", "martin"
    done = form.submit(status=303).follow()
    assert "Questionnaire « Satisfaction » envoyé à Léa Leroy" in done.text
    sent = api("dr.martin").get(f"{FORMS}/satisfaction-2").json
    assert sent["review_state"] == "sent" and sent["practitioner"]["id"] == "martin"
    testapp.reset()
    login(testapp, "p.leroy")
    assert "Envoyer un questionnaire" not in testapp.get(LEROY).text
    assert "Mes formulaires" in testapp.get(LEROY).text


# -- Q4: drafts and submission (JSON) ----------------------------------------------------------

def test_a_draft_keeps_partial_answers_and_checks_types(demo, api, db, clock):
    path = send(api("dr.martin"))
    leroy = api("p.leroy")
    clock.advance(minutes=5)
    saved = leroy.patch(path, {"answers": {"note": "7"}}).json
    assert saved["answers"] == {"note": 7}
    assert saved["draft_saved_at"] == "2026-03-10T09:05:00+00:00"
    assert saved["review_state"] == "sent"
    before = stored(db, path)
    bad = leroy.patch(path, {"answers": {"note": 11, "accueil": "Super", "age": 3}},
                      status=422).json
    assert bad["errors"] == {"note": "La valeur doit être au plus 10.",
                             "accueil": "« Super » n'est pas un des choix proposés.",
                             "age": "Cette question n'existe pas dans ce questionnaire."}
    assert stored(db, path) == before
    leroy.patch(path, {"answers": {"note": 7}, "title": "x"}, status=422)
    leroy.patch(path, {"title": "Renommé"}, status=403)     # staff's, while pending
    leroy.patch(path, {"answers": "all"}, status=422)


def test_submission_checks_everything_then_fills(demo, api, db):
    path = send(api("dr.martin"))
    leroy = api("p.leroy")
    assert leroy.post(f"{path}/@workflow/fill", status=409).json["guard"] == "answers_complete"
    leroy.patch(path, {"answers": {"note": 3}})
    refused = leroy.post(f"{path}/@workflow/fill", status=422).json
    assert refused["errors"] == {"accueil": "Cette question est obligatoire."}
    assert stored(db, path)["state"] == "sent"
    leroy.patch(path, {"answers": COMPLETE})
    assert leroy.post(f"{path}/@workflow/fill").json["review_state"] == "filled"
    again = leroy.post(f"{path}/@workflow/fill", status=409).json
    assert again["review_state"] == "filled"
    # the answers of a submitted questionnaire no longer change
    late = leroy.patch(path, {"answers": {"note": 1}}, status=409).json
    assert "n'est pas à remplir" in late["message"]
    assert stored(db, path)["answers"] == COMPLETE


def test_conditional_questions_in_the_api(demo, api):
    leroy = api("p.leroy")
    answers = {"medicaments": False, "lesquels": "Aspirine"}
    saved = leroy.patch(ANAMNESE, {"answers": answers}).json
    assert saved["answers"] == {"medicaments": False}
    leroy.patch(ANAMNESE, {"answers": {"medicaments": True}})
    assert leroy.post(f"{ANAMNESE}/@workflow/fill", status=422).json["errors"] == {
        "lesquels": "Cette question est obligatoire."}
    leroy.patch(ANAMNESE, {"answers": {"medicaments": True, "lesquels": "Aspirine"}})
    assert leroy.post(f"{ANAMNESE}/@workflow/fill").json["review_state"] == "filled"


# -- Q4: the fill page --------------------------------------------------------------------

def fill_form(page):
    return page.forms["questionnaire"]


def test_the_fill_page_shows_errors_in_place_and_keeps_the_values(demo, testapp, db):
    login(testapp, "p.leroy")
    page = testapp.get(ANAMNESE)
    form = fill_form(page)
    assert page.html.select_one("#item-q-lesquels")["class"].count("conditional") == 1
    assert json.loads(page.html.select_one("#questionnaire-conditions").string) == {
        "item-q-lesquels": {"question": "item-q-medicaments", "equals": True}}
    form["cigarettes"] = "200"
    form["derniere-visite"] = "2025-02-30"
    form["q-medicaments"] = "true"
    result = form.submit("transition", status=422)
    errors = {p["id"]: p.get_text(strip=True) for p in result.html.select(".invalid-feedback")}
    assert errors == {"error-q-cigarettes": "La valeur doit être au plus 100.",
                      "error-q-derniere-visite": "Date invalide : AAAA-MM-JJ ou JJ/MM/AAAA.",
                      "error-q-lesquels": "Cette question est obligatoire."}
    again = fill_form(result)
    assert again["cigarettes"].value == "200"
    assert again["q-medicaments"].value == "true"
    assert "Il y a eu un problème avec votre requête" in result.text  # deform, in French
    assert stored(db, ANAMNESE)["state"] == "sent"
    assert stored(db, ANAMNESE)["answers"] is None


def test_draft_then_submit_through_the_page(demo, testapp, db):
    login(testapp, "p.leroy")
    form = fill_form(testapp.get(ANAMNESE))
    form["q-medicaments"] = "true"          # "lesquels" required, but a draft may wait
    form["cigarettes"] = "5"
    form.set("checkbox", True, index=1)      # Latex
    saved = form.submit("save", status=303).follow()
    assert "Brouillon enregistré" in saved.text
    assert stored(db, ANAMNESE)["answers"] == {"medicaments": True, "cigarettes": 5,
                                               "allergies": ["Latex"]}
    form = fill_form(saved)                 # the draft comes back into the form
    assert form["cigarettes"].value == "5" and form["q-medicaments"].value == "true"
    form["lesquels"] = "Doliprane 1 g"
    done = form.submit("transition", status=303)
    assert done.location.endswith(f"{LEROY}/@@patient-questionnaires")
    forms_page = done.follow()
    assert "a été envoyé au cabinet" in forms_page.text
    assert stored(db, ANAMNESE)["state"] == "filled"
    assert stored(db, ANAMNESE)["answers"]["lesquels"] == "Doliprane 1 g"


def test_a_hidden_question_is_dropped_without_javascript(demo, testapp, db):
    login(testapp, "p.leroy")
    form = fill_form(testapp.get(ANAMNESE))
    form["q-medicaments"] = "false"
    form["lesquels"] = "typed before changing the answer"
    form.submit("transition", status=303)
    assert stored(db, ANAMNESE)["answers"] == {"medicaments": False}


def test_a_double_submission_from_two_tabs(demo, testapp, db):
    login(testapp, "p.leroy")
    first, second = fill_form(testapp.get(ANAMNESE)), fill_form(testapp.get(ANAMNESE))
    for form, answer in ((first, "false"), (second, "true")):
        form["q-medicaments"] = answer
        form["lesquels"] = "Aspirine"
    first.submit("transition", status=303)
    late = second.submit("transition", status=409)
    assert "il a peut-être déjà été envoyé depuis un autre onglet" in late.text
    assert stored(db, ANAMNESE)["answers"] == {"medicaments": False}
    # the same for a draft saved from a stale tab
    second.submit("save", status=409)


def test_the_fill_form_needs_the_csrf_token(demo, testapp, db):
    login(testapp, "p.leroy")
    testapp.post(f"{ANAMNESE}/@@workflow", {"__formid__": "questionnaire",
                                            "transition": "fill"}, status=403)
    assert stored(db, ANAMNESE)["state"] == "sent"


def test_mes_formulaires(demo, testapp, api):
    login(testapp, "p.leroy")
    page = testapp.get(f"{LEROY}/@@patient-questionnaires")
    groups = {g["data-group"]: [a.get_text(strip=True) for a in g.select("li a")]
              for g in page.html.select("section.group")}
    assert groups == {"to_fill": ["Questionnaire médical"], "to_sign": ["Satisfaction"],
                      "done": ["Suivi post-opératoire"]}
    data = api("p.leroy").get(f"{LEROY}/@patient-questionnaires").json
    assert [i["id"] for i in data["to_fill"]] == ["anamnese"]
    # linked from the patient's page
    assert testapp.get(LEROY).html.select_one(".patient-forms a")["href"].endswith(
        "/@@patient-questionnaires")


# -- Q3: the workflow, by the right people only -------------------------------------------

def test_the_whole_workflow_by_the_right_people(other_cabinet, api, testapp, registry, db):
    martin, leroy, other = api("dr.martin"), api("p.leroy"), api("staff.autre")
    path = send(martin)
    # sent: only the patient fills; staff and another cabinet may not
    martin.patch(path, {"answers": COMPLETE}, status=403)
    other.patch(path, {"answers": COMPLETE}, status=(403, 404))
    other.get(path, status=(403, 404))
    testapp.get(path, status=(302, 303, 401, 403))
    leroy.patch(path, {"answers": COMPLETE})
    martin.post(f"{path}/@workflow/fill", status=403)
    leroy.post(f"{path}/@workflow/fill")
    # filled: staff validate or send back, the patient may not
    leroy.post(f"{path}/@workflow/validate", status=403)
    other.post(f"{path}/@workflow/validate", status=(403, 404))
    no_comment = martin.post(f"{path}/@workflow/reopen", status=422).json
    assert no_comment["errors"]["comment"].startswith("Un commentaire est requis")
    martin.post(f"{path}/@workflow/reopen", {"comment": "Précisez l'accueil, merci."})
    assert leroy.get(path).json["reopen_comment"] == "Précisez l'accueil, merci."
    leroy.patch(path, {"answers": {**COMPLETE, "accueil": "Très bon"}})
    leroy.post(f"{path}/@workflow/fill")
    martin.post(f"{path}/@workflow/validate")
    # validated: the patient signs with a code sent to her phone; staff may not sign
    martin.post(f"{path}/@sign-code", status=403)
    martin.post(f"{path}/@workflow/sign", {"code": "000000"}, status=403)
    sent = leroy.post(f"{path}/@sign-code").json
    assert sent["sent_to"] == "+352••••••456"
    wrong = leroy.post(f"{path}/@workflow/sign", {"code": "000000"}, status=409).json
    assert wrong["guard"] == "one_time_code"
    signed = leroy.post(f"{path}/@workflow/sign", {"code": last_code(registry)}).json
    assert signed["review_state"] == "signed"
    history = [(h["transition"], h["actor"]["id"])
               for h in reversed(martin.get(f"{path}/@history").json)
               if h["action"] == "transition"]
    assert history == [("send", "dr.martin"), ("fill", "p.leroy"), ("reopen", "dr.martin"),
                       ("fill", "p.leroy"), ("validate", "dr.martin"), ("sign", "p.leroy")]


def test_the_signature_evidence_covers_the_answers_and_the_version(demo, api, registry, db):
    leroy = api("p.leroy")
    api("p.leroy").get(f"{SATISFACTION}/@signature", status=404)
    leroy.post(f"{SATISFACTION}/@sign-code")
    leroy.post(f"{SATISFACTION}/@workflow/sign", {"code": last_code(registry)})
    evidence = leroy.get(f"{SATISFACTION}/@signature").json
    data = api("dr.martin").get(SATISFACTION).json
    version = {"id": None, "template_id": None, "number": 1, "title": "Satisfaction",
               "questions": data["questions"]}
    with db() as request:
        from cabinet.models.questionnaires import TemplateVersion
        row = request.dbsession.scalar(select(TemplateVersion).where(
            TemplateVersion.id == select(QuestionnaireResponse.template_version_id).where(
                QuestionnaireResponse.path == SATISFACTION + "/").scalar_subquery()))
        version["id"], version["template_id"] = row.id, row.template_id
    canonical = json.dumps({"answers": data["answers"], "template_version": version},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert evidence["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert evidence["content_type"] == "application/json"
    assert evidence["signer"]["id"] == "p.leroy"
    assert evidence["one_time_code"]["sent_to"] == "+352••••••456"
    assert evidence["signed_sha256"] is None and evidence["download"] is None
    assert api("dr.martin").get(f"{SATISFACTION}/@signature").json["sha256"] == \
        evidence["sha256"]


def test_the_sign_step_on_the_page(demo, testapp, registry, db):
    login(testapp, "p.leroy")
    page = testapp.get(SATISFACTION)
    assert "Recevoir un code par SMS" in page.text
    code_form = [f for f in page.forms.values() if f.action.endswith("/@@sign-code")][0]
    page = code_form.submit(status=303).follow()
    assert "Un code de signature a été envoyé au +352••••••456" in page.text
    sign = [f for f in page.forms.values() if "code" in f.fields][0]
    sign["code"] = last_code(registry)
    signed = sign.submit("transition", value="sign", status=303).follow()
    assert stored(db, SATISFACTION)["state"] == "signed"
    assert "Preuve de signature" in signed.text
    report = testapp.get(f"{SATISFACTION}/@@signature")
    assert "Empreinte SHA-256 des réponses signées" in report.text


def test_staff_review_page_read_only_with_print_view(demo, api, testapp):
    path = send(api("dr.martin"))
    api("p.leroy").patch(path, {"answers": {**COMPLETE, "commentaire": "Merci"}})
    api("p.leroy").post(f"{path}/@workflow/fill")
    login(testapp, "dr.martin")
    page = testapp.get(path)
    assert "questionnaire" not in page.forms          # read-only: no fill form
    answers = {dd["data-question"]: dd.get_text(strip=True) for dd in page.html.select(
        "dl.answers dd")}
    assert answers == {"note": "8", "accueil": "Bon", "commentaire": "Merci"}
    review = page.html.select_one("form.transitions")
    assert sorted(b["value"] for b in review.select("button[name=transition]")) == [
        "reopen", "validate"]
    form = [f for f in page.forms.values() if "comment" in f.fields][0]
    form["comment"] = "Merci de préciser l'accueil."
    form.submit("transition", value="reopen", status=303)
    testapp.reset()
    login(testapp, "p.leroy")
    again = testapp.get(path)
    assert "Le cabinet vous a renvoyé ce questionnaire" in again.text
    assert "Merci de préciser l'accueil." in again.html.select_one(
        ".reopen-comment").get_text()
    assert fill_form(again)["q-accueil"].value == "Bon"
    printable = testapp.get(f"{path}/@@print")
    assert "print-answers" in printable.text and "@media print" not in printable.text
    assert [p.get_text(strip=True) for p in printable.html.select(".answer")] == [
        "8", "Bon", "Merci"]


# -- guardians of minors ------------------------------------------------------------------

@pytest.fixture
def hugo_form(demo, api):
    """A questionnaire sent to the minor Hugo Leroy (his parent 1 is Léa Leroy; his
    record opens minors' access for documents, not the cabinet for questionnaires)."""
    return send(api("dr.martin"), patient=HUGO)


def log_in_as_lea(testapp, registry):
    challenge = testapp.post_json("/@patient-login", LEA).json["challenge"]
    token = testapp.post_json("/@patient-login/verify", {
        "challenge": challenge, "code": last_code(registry)}).json["token"]
    return Api(testapp, token)


def set_switch(db, value):
    with db() as request:
        cabinet = request.dbsession.scalar(select(Cabinet).where(Cabinet.path == PARC + "/"))
        cabinet.minors_access_questionnaires = value


def test_a_guardian_fills_only_where_the_cabinet_allows_it(hugo_form, testapp, registry, db):
    lea = log_in_as_lea(testapp, registry)
    # minors' access for documents is on for Hugo; for questionnaires the cabinet says no
    assert lea.get(HUGO).json["title"] == "Hugo Leroy"
    lea.get(hugo_form, status=(403, 404))
    lea.patch(hugo_form, {"answers": COMPLETE}, status=(403, 404))
    found = lea.get(f"/@search?portal_type=QuestionnaireResponse&path={HUGO}").json
    assert found["items"] == []
    set_switch(db, True)
    found = lea.get(f"/@search?portal_type=QuestionnaireResponse&path={HUGO}").json
    assert [path_of(i) for i in found["items"]] == [hugo_form]
    lea.patch(hugo_form, {"answers": COMPLETE})
    assert lea.post(f"{hugo_form}/@workflow/fill").json["review_state"] == "filled"
    with db() as request:
        from cabinet.models import HistoryEntry
        entry = request.dbsession.scalar(select(HistoryEntry).where(
            HistoryEntry.transition == "fill"))
        assert entry.details["acting_for"] == {"type": "guardian", "relation": "parent1",
                                               "patient": "Hugo Leroy"}
    set_switch(db, False)
    lea.get(hugo_form, status=(403, 404))


def test_the_minor_s_record_overrides_the_cabinet(hugo_form, testapp, registry, api):
    martin = api("dr.martin")
    martin.patch(HUGO, {"minors_access_questionnaires": "on"})    # the cabinet says no
    lea = log_in_as_lea(testapp, registry)
    assert lea.get(hugo_form).json["review_state"] == "sent"
    api("admin").patch(PARC, {"minors_access_questionnaires": True})
    martin.patch(HUGO, {"minors_access_questionnaires": "off"})   # the cabinet says yes
    lea.get(hugo_form, status=(403, 404))
    martin.patch(HUGO, {"minors_access_questionnaires": ""})      # follows the cabinet
    assert lea.get(hugo_form).json["review_state"] == "sent"


def test_a_guardian_sees_a_minor_with_questionnaires_only(hugo_form, testapp, registry, db):
    with db() as request:
        from cabinet.models import Patient
        hugo = request.dbsession.scalar(select(Patient).where(Patient.path == HUGO + "/"))
        hugo.minors_access = "off"                  # no documents for the guardian
    set_switch(db, True)
    lea = log_in_as_lea(testapp, registry)
    mine = lea.get("/@my-patients").json
    assert [(i["title"], i["questionnaires"]) for i in mine["items"]] == [
        ("Léa Leroy", True), ("Hugo Leroy", True)]
    assert [i["id"] for i in lea.get(f"{HUGO}/@patient-questionnaires").json["to_fill"]] \
        == [hugo_form.rsplit("/", 1)[1]]
    found = lea.get(f"/@search?portal_type=Document&path={HUGO}").json
    assert found["items"] == []


# -- FHIR -------------------------------------------------------------------------------------

@pytest.mark.parametrize("steps, status", [
    ((), "in-progress"),
    (("fill",), "completed"),
    (("fill", "validate"), "completed"),
    (("fill", "reopen", "fill"), "amended"),
    (("fill", "reopen"), "in-progress"),
])
def test_fhir_questionnaire_response_is_valid(demo, api, steps, status):
    martin, leroy = api("dr.martin"), api("p.leroy")
    path = send(martin, template="questionnaire-medical", practitioner="martin")
    leroy.patch(path, {"answers": {"medicaments": True, "lesquels": "Aspirine",
                                   "allergies": ["Latex", "Aucune"],
                                   "derniere-visite": "2025-11-02", "cigarettes": 2.5}})
    for step in steps:
        client = leroy if step == "fill" else martin
        client.post(f"{path}/@workflow/{step}", {"comment": "À revoir"})
    response = martin.get(f"{path}/@fhir")
    assert response.content_type == "application/fhir+json"
    resource = response.json
    validate_fhir(resource)
    assert resource["resourceType"] == "QuestionnaireResponse"
    assert resource["status"] == status
    assert resource["questionnaire"] == \
        f"http://localhost{PARC}/questionnaire-templates/questionnaire-medical|1"
    assert resource["subject"]["reference"] == f"http://localhost{LEROY}"
    answers = {item["linkId"]: item["answer"] for item in resource["item"]}
    assert answers == {"medicaments": [{"valueBoolean": True}],
                       "lesquels": [{"valueString": "Aspirine"}],
                       "allergies": [{"valueString": "Latex"}, {"valueString": "Aucune"}],
                       "derniere-visite": [{"valueDate": "2025-11-02"}],
                       "cigarettes": [{"valueDecimal": 2.5}]}
    # the template's Questionnaire names the same items
    questionnaire = martin.get(f"{PARC}/questionnaire-templates/questionnaire-medical/@fhir")
    assert {i["linkId"] for i in questionnaire.json["item"]} >= set(answers)


def test_fhir_of_a_signed_scale_and_choice(demo, api, registry):
    leroy = api("p.leroy")
    leroy.post(f"{SATISFACTION}/@sign-code")
    leroy.post(f"{SATISFACTION}/@workflow/sign", {"code": last_code(registry)})
    resource = leroy.get(f"{SATISFACTION}/@fhir").json
    validate_fhir(resource)
    assert resource["status"] == "completed"
    assert resource["item"][0] == {"linkId": "note", "text": "Recommanderiez-vous le cabinet ?",
                                   "answer": [{"valueInteger": 9}]}


def test_fhir_needs_view_rights(other_cabinet, api, testapp):
    api("staff.autre").get(f"{SATISFACTION}/@fhir", status=(403, 404))
    testapp.get(f"{SATISFACTION}/@fhir", status=(401, 403))


# -- Q5: the console ---------------------------------------------------------------------------

@pytest.fixture
def console(demo, api, clock):
    """Responses sent over time: 40 days ago, 10 days ago (filled), today (two)."""
    martin, leroy = api("dr.martin"), api("p.leroy")
    clock.advance(days=-40)
    old = send(martin, practitioner="weber")
    clock.advance(days=30)
    filled = send(martin, practitioner="martin")
    leroy.patch(filled, {"answers": COMPLETE})
    leroy.post(f"{filled}/@workflow/fill")
    clock.advance(days=10)
    today = [send(martin, practitioner="weber"), send(martin, "questionnaire-medical")]
    return {"old": old, "filled": filled, "today": today}


def listing(client, query=""):
    return client.get(f"{PARC}/@questionnaires{query}").json


def test_console_default_period_counts_and_filters(console, api):
    martin = api("dr.martin")
    data = listing(martin)
    assert (data["from"], data["to"]) == ("2026-02-08", "2026-03-10")
    # the demo's two responses linked to templates (sent 2 and 9 days ago) are in too
    assert data["counts"] == {"sent": 3, "filled": 1, "validated": 1, "signed": 0}
    assert data["items_total"] == 5
    assert path_of(data["items"][-1]) == console["filled"]     # newest sent first
    assert path_of(data["items"][0]) in console["today"]
    only_filled = listing(martin, "?state=filled")
    assert [path_of(i) for i in only_filled["items"]] == [console["filled"]]
    assert only_filled["items_total"] == 1
    assert only_filled["counts"] == data["counts"]              # counts ignore the state
    weber = listing(martin, "?practitioner=weber")
    assert [path_of(i) for i in weber["items"]] == [console["today"][0]]
    assert weber["items"][0]["practitioner"] == {"id": "weber", "title": "Dr Eva Weber"}
    medical = listing(martin, "?template=questionnaire-medical")
    assert sorted(path_of(i) for i in medical["items"]) == sorted(
        [console["today"][1], ANAMNESE])
    longer = listing(martin, "?from=2026-01-01&to=2026-03-10&practitioner=weber")
    assert sorted(path_of(i) for i in longer["items"]) == sorted(
        [console["old"], console["today"][0]])
    assert longer["counts"]["sent"] == 2


def test_console_periods_are_the_cabinets_days(demo, api, clock):
    """A questionnaire sent at 22:30 UTC on 14 July was sent at 00:30 on 15 July in
    Luxembourg (UTC+2 in summer): the period of 15 July holds it, that of 14 July
    does not, and the default period ends on the cabinet's today (15 July)."""
    clock.set(datetime(2026, 7, 14, 22, 30))
    martin = api("dr.martin")
    sent = send(martin, practitioner="weber")
    clock.set(datetime(2026, 7, 14, 21, 59))              # 23:59 on 14 July, locally
    before = send(martin, practitioner="weber")
    clock.set(datetime(2026, 7, 14, 23, 0))               # 01:00 on 15 July
    data = listing(martin, "?practitioner=weber")
    assert data["to"] == "2026-07-15"
    assert {path_of(i) for i in data["items"]} == {sent, before}
    assert [path_of(i) for i in listing(
        martin, "?from=2026-07-15&to=2026-07-15")["items"]] == [sent]
    assert [path_of(i) for i in listing(
        martin, "?from=2026-07-14&to=2026-07-14")["items"]] == [before]
    queue = martin.get(f"{PARC}/@work-queues/questionnaires?from=2026-07-15&to=2026-07-15")
    assert [path_of(i) for i in queue.json["items"]] == [sent]


@pytest.mark.parametrize("query", ["?from=hier", "?to=2026-13-01", "?state=pending",
                                   "?practitioner=personne", "?template=secret",
                                   "?from=2026-03-10&to=2026-03-01", "?b_start=-1"])
def test_console_refuses_bad_filters(console, api, query):
    assert api("dr.martin").get(f"{PARC}/@questionnaires{query}", status=400)


def test_console_pages_of_fifty(demo, api, db):
    with db() as request:
        from cabinet.interfaces import IClock
        from cabinet.models.questionnaires import TemplateVersion
        folder = request.dbsession.scalar(select(Node).where(Node.path == FORMS + "/"))
        version = request.dbsession.scalar(select(TemplateVersion))
        now = request.registry.getUtility(IClock).now()
        for n in range(60):
            node = add_node(request.dbsession, request.registry, folder,
                            "QuestionnaireResponse", name=f"lot-{n}", title=f"Lot {n}",
                            template_id=version.template_id,
                            template_version_id=version.id,
                            sent_at=now - timedelta(minutes=n))
            node.state = "sent"
    martin = api("dr.martin")
    first = listing(martin)
    assert first["items_total"] == 62 and len(first["items"]) == 50
    second = martin.get(first["batching"]["next"]).json
    assert len(second["items"]) == 12
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})


def test_console_obeys_the_acl(console, other_cabinet, api, testapp):
    api("p.leroy").get(f"{PARC}/@questionnaires", status=403)
    api("staff.autre").get(f"{PARC}/@questionnaires", status=403)
    other = api("staff.autre").get("/cabinets/autre/@questionnaires").json
    assert other["items_total"] == 0
    testapp.get(f"{PARC}/@questionnaires", status=(401, 403))
    # a secretary acting for dr.martin sees what he sees
    assert listing(api("sec.dupont"))["items_total"] == 5


def test_console_page(console, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(f"{PARC}/@@questionnaires?state=sent")
    counts = {s["data-count"]: s.get_text(strip=True) for s in page.html.select("[data-count]")}
    assert counts["sent"] == "Envoyés, non remplis : 3"
    assert counts["filled"] == "Remplis : 1"
    assert page.html.select_one("[data-total]")["data-total"] == "3"
    assert len(page.html.select("tbody tr")) == 3
    assert all(b["data-state"] == "sent" for b in page.html.select("tbody [data-state]"))
    link = testapp.get(PARC).html.select_one(".questionnaire-links a")
    assert link["href"] == f"http://localhost{PARC}/@@questionnaires"
