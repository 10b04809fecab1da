"""One-time codes and patient login under attack (issue #6, authentication): a code
works once, only for its purpose and object, for 10 minutes of the clock and 5 tries;
sending is capped per phone and per address (test_one_time_code_caps.py); and
patient login answers a known and an unknown person the same way."""
import re

from sqlalchemy import select

from cabinet.interfaces import ISmsGateway
from cabinet.models import Node
from cabinet.sample_files import make_pdf

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
CONSENT = f"{LEROY}/documents/consentement"          # sent, needs Léa's signature
LEA = {"phone": "+352 621 123 456", "last_name": "Leroy", "first_name": "Léa",
       "birth_date": "1990-04-12"}
MARC = {"phone": "+352621000004", "last_name": "Schmit", "first_name": "Marc",
        "birth_date": "1990-06-30"}
NOBODY = {**LEA, "first_name": "Lucie"}


def outbox(registry):
    return registry.getUtility(ISmsGateway).outbox


def last_code(registry):
    return re.search(r"\b(\d{6})\b", outbox(registry)[-1]["text"]).group(1)


def other_than(code):
    return "000000" if code != "000000" else "111111"


def state_of(db, path):
    with db() as request:
        return request.dbsession.scalar(select(Node.state).where(Node.path == path + "/"))


def sent_document(api, title):
    """A new document of Léa's that needs her signature, sent to her."""
    martin = api("dr.martin")
    response = martin.testapp.post(f"{LEROY}/documents", params={
        "title": title, "needs_signature": "true"},
        upload_files=[("file", "doc.pdf", make_pdf(title))], headers=martin.headers)
    path = response.json["@id"].removeprefix("http://localhost")
    martin.post(f"{path}/@workflow/send")
    return path


def start(testapp, person=LEA, **kw):
    return testapp.post_json("/@patient-login", person, **kw)


def verify(testapp, challenge, code, **kw):
    return testapp.post_json("/@patient-login/verify",
                             {"challenge": challenge, "code": code}, **kw)


# -- bound to its purpose and object, used once ----------------------------------------

def test_a_code_for_document_a_signs_neither_b_nor_a_login(demo, api, testapp, registry,
                                                           db):
    leroy = api("p.leroy")
    other = sent_document(api, "Plan de traitement")
    leroy.post(f"{CONSENT}/@sign-code")
    code = last_code(registry)
    # not document B
    refused = leroy.post(f"{other}/@workflow/sign", {"code": code}, status=409)
    assert refused.json["message"] == \
        "Aucun code valable n'a été demandé : demandez un code."
    assert state_of(db, other) == "sent"
    # not a login, even Léa's own
    challenge = start(testapp).json["challenge"]
    login_code = last_code(registry)
    if code != login_code:
        assert verify(testapp, challenge, code, status=422).json["message"].startswith(
            "Code incorrect")
    # a login code does not sign either
    if login_code != code:
        assert leroy.post(f"{CONSENT}/@workflow/sign", {"code": login_code},
                          status=409).json["message"].startswith("Code incorrect")
    # its own document, once
    assert leroy.post(f"{CONSENT}/@workflow/sign", {"code": code}).json[
        "review_state"] == "signed"
    assert state_of(db, other) == "sent"


def test_a_login_code_is_used_once(demo, testapp, registry):
    challenge = start(testapp).json["challenge"]
    code = last_code(registry)
    assert verify(testapp, challenge, code).json["token"]
    again = verify(testapp, challenge, code, status=422)
    assert again.json["message"] == "Ce code a déjà été utilisé : demandez un nouveau code."
    # nor with another challenge
    second = start(testapp).json["challenge"]
    if last_code(registry) != code:
        assert verify(testapp, second, code, status=422).json["message"].startswith(
            "Code incorrect")


# -- ten minutes, five tries -------------------------------------------------------------

def test_a_login_code_lives_ten_minutes_of_the_clock(demo, testapp, registry, clock):
    challenge = start(testapp).json["challenge"]
    code = last_code(registry)
    clock.advance(minutes=10)
    assert verify(testapp, challenge, code, status=422).json["message"] == \
        "Ce code a expiré : demandez un nouveau code."
    clock.advance(minutes=1)
    challenge = start(testapp).json["challenge"]
    clock.advance(minutes=9, seconds=59)
    assert verify(testapp, challenge, last_code(registry)).json["token"]


def test_five_wrong_login_tries_kill_the_code(demo, testapp, registry):
    challenge = start(testapp).json["challenge"]
    code = last_code(registry)
    messages = [verify(testapp, challenge, other_than(code), status=422).json["message"]
                for _ in range(5)]
    assert messages[-1].endswith("demandez un nouveau code.")
    assert "trop de fois" in verify(testapp, challenge, code, status=422).json["message"]


def test_five_wrong_sign_tries_kill_the_code(demo, api, registry, db):
    leroy = api("p.leroy")
    leroy.post(f"{CONSENT}/@sign-code")
    code = last_code(registry)
    for _ in range(5):
        leroy.post(f"{CONSENT}/@workflow/sign", {"code": other_than(code)}, status=409)
    assert "trop de fois" in leroy.post(f"{CONSENT}/@workflow/sign", {"code": code},
                                        status=409).json["message"]
    assert state_of(db, CONSENT) == "sent"


# -- known or unknown: the same answer ---------------------------------------------------

def without_challenge(body):
    return {k: v for k, v in body.items() if k != "challenge"}


def test_patient_login_answers_alike_for_known_and_unknown_people(demo, testapp,
                                                                 registry, clock):
    known = start(testapp, LEA)
    unknown = start(testapp, NOBODY)
    assert known.status_int == unknown.status_int == 200
    assert known.headers["Content-Type"] == unknown.headers["Content-Type"]
    assert without_challenge(known.json) == without_challenge(unknown.json)
    assert len(known.json["challenge"]) == len(unknown.json["challenge"])
    assert len(outbox(registry)) == 1                    # only the known person's SMS
    # the code step: a wrong code answers alike too
    answers = [verify(testapp, r.json["challenge"], other_than(last_code(registry)),
                      status=422).json for r in (known, unknown)]
    assert answers[0] == answers[1]
    # resending answers alike (without sending anything for nobody)
    outbox(registry).clear()
    clock.advance(minutes=1)
    resent = [testapp.post_json("/@patient-login/resend", {"challenge": r.json["challenge"]})
              for r in (known, unknown)]
    assert [r.status_int for r in resent] == [200, 200]
    assert without_challenge(resent[0].json) == without_challenge(resent[1].json)
    assert len(outbox(registry)) == 1


def test_patient_login_pages_answer_alike(demo, app, registry):
    import webtest

    def attempt(person):
        browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                      "REMOTE_ADDR": "127.0.0.1"})
        form = browser.get("/patient/login").forms[0]
        for key, value in person.items():
            form[key] = value
        response = form.submit()
        page = response.follow()
        text = re.sub(r'name="csrf_token" value="[^"]*"', "", page.text)
        return response.status_int, response.location, page.status_int, text
    assert attempt(LEA) == attempt(NOBODY)
    assert len(outbox(registry)) == 1
