"""The terms-of-use gate (cabinet/terms.py) lets the patient login pages and steps
through: a person signed in on this browser whose terms are pending (a secretary who
is also a patient, a shared family computer) can still log in as a patient."""
import re

from cabinet.interfaces import ISmsGateway
from tests.conftest import login

LEA = {"phone": "+352 621 123 456", "last_name": "Leroy", "first_name": "Léa",
       "birth_date": "1990-04-12"}


def last_code(registry):
    text = registry.getUtility(ISmsGateway).outbox[-1]["text"]
    return re.search(r"\b(\d{6})\b", text).group(1)


def form_to(page, action):
    """The page's form posting to ``action`` (the layout has a logout form too)."""
    return next(form for _i, form in sorted(page.forms.items(), key=lambda i: str(i[0]))
                if (form.action or "").endswith(action))


def publish_new_terms(api):
    admin = api("admin")
    admin.post("/@terms-admin", {"version": "2026-02", "text": "Nouvelles conditions."})


def test_pending_terms_do_not_block_the_patient_login_pages(demo, api, testapp,
                                                             registry):
    login(testapp, "dr.martin")
    publish_new_terms(api)
    # the gate holds elsewhere
    assert "/@@terms" in testapp.get("/cabinets/parc/patients").location
    page = testapp.get("/patient/login", status=200)
    assert page.html.h1.get_text(strip=True) == "Connexion patient"
    form = form_to(page, "/patient/login")
    for key, value in LEA.items():
        form[key] = value
    sent = form.submit(status=303)
    assert sent.location.endswith("/patient/code")
    code_page = sent.follow(status=200)
    assert "+352••••••456" in code_page.text
    form = form_to(code_page, "/patient/code")
    form["code"] = last_code(registry)
    done = form.submit(status=303)
    assert done.location.endswith("/my-patients")


def test_pending_terms_do_not_block_the_json_steps(demo, api, testapp, registry):
    publish_new_terms(api)
    martin = api("dr.martin")           # a bearer token whose terms are pending
    assert martin.get("/cabinets/parc", status=403).json["type"] == "TermsNotAccepted"
    started = testapp.post_json("/@patient-login", LEA, headers=martin.headers)
    challenge = started.json["challenge"]
    verified = testapp.post_json("/@patient-login/verify", {
        "challenge": challenge, "code": last_code(registry)}, headers=martin.headers)
    assert verified.json["token"]
