"""One-time codes (cabinet/otp.py) through the signature of a demo document: 6 digits,
stored hashed, compared in constant time, bound to purpose, object, user and phone,
single use, 10-minute expiry by the clock, 5 wrong tries, resend limits."""
import re

import pytest
from sqlalchemy import select

from cabinet.interfaces import ISmsGateway
from cabinet.models import Node, OneTimeCode

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
CONSENT = f"{LEROY}/documents/consentement"          # sent, needs a signature
DEVIS = f"{LEROY}/documents/devis"                   # pending


def outbox(registry):
    return registry.getUtility(ISmsGateway).outbox


def last_code(registry):
    return re.search(r"\b(\d{6})\b", outbox(registry)[-1]["text"]).group(1)


def state_of(db, path):
    with db() as request:
        return request.dbsession.scalar(select(Node.state).where(Node.path == path + "/"))


@pytest.fixture
def leroy(demo, api):
    return api("p.leroy")


def ask_code(client, path=CONSENT, status=200):
    return client.post(f"{path}/@sign-code", status=status)


def sign(client, code, path=CONSENT, status=200):
    return client.post(f"{path}/@workflow/sign", {"code": code}, status=status)


def test_the_code_is_six_digits_sent_to_the_patient_and_stored_hashed(leroy, registry, db):
    response = ask_code(leroy)
    assert response.json["sent_to"] == "+352••••••456"
    [sms] = outbox(registry)
    assert sms["to"] == "+352621123456"
    assert "Consentement éclairé" in sms["text"]
    code = last_code(registry)
    with db() as request:
        [row] = request.dbsession.scalars(select(OneTimeCode)).all()
        assert row.purpose == "sign" and row.phone == "+352621123456"
        assert code not in row.code_hash and len(row.code_hash) == 64
        assert row.salt and code not in row.salt
        assert (row.expires - row.created).total_seconds() == 600
    assert sign(leroy, code).json["review_state"] == "signed"
    assert state_of(db, CONSENT) == "signed"


def test_codes_are_compared_in_constant_time(leroy, registry, monkeypatch):
    import cabinet.otp
    calls = []
    real = cabinet.otp.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)
    monkeypatch.setattr(cabinet.otp.hmac, "compare_digest", spy)
    ask_code(leroy)
    sign(leroy, "000000" if last_code(registry) != "000000" else "111111", status=409)
    assert len(calls) == 1
    sign(leroy, last_code(registry))
    assert len(calls) == 2


def test_wrong_code_says_so_and_leaves_the_state(leroy, registry, db):
    ask_code(leroy)
    wrong = "000000" if last_code(registry) != "000000" else "111111"
    response = sign(leroy, wrong, status=409)
    assert response.json["message"] == "Code incorrect : il vous reste 4 essai(s)."
    assert response.json["review_state"] == "sent"
    assert state_of(db, CONSENT) == "sent"
    assert sign(leroy, "", status=409).json["message"] == \
        "Saisissez le code à 6 chiffres reçu par SMS."
    assert sign(leroy, "12ab56", status=409).json["message"] == \
        "Code incorrect : il vous reste 3 essai(s)."
    # the tries survive the failed requests' rollbacks
    with db() as request:
        assert request.dbsession.scalar(select(OneTimeCode.tries)) == 2


def test_five_wrong_tries_kill_the_code(leroy, registry, db):
    ask_code(leroy)
    code = last_code(registry)
    wrong = "000000" if code != "000000" else "111111"
    messages = [sign(leroy, wrong, status=409).json["message"] for _ in range(5)]
    assert messages[:4] == [f"Code incorrect : il vous reste {n} essai(s)." for n in (4, 3, 2, 1)]
    assert "trop de fois" in messages[4]
    # even the right code is refused now
    assert "trop de fois" in sign(leroy, code, status=409).json["message"]
    assert state_of(db, CONSENT) == "sent"


def test_a_code_expires_after_ten_minutes(leroy, registry, clock, db):
    ask_code(leroy)
    clock.advance(minutes=10)
    assert sign(leroy, last_code(registry), status=409).json["message"] == \
        "Ce code a expiré : demandez un nouveau code."
    clock.advance(minutes=1)
    ask_code(leroy)
    clock.advance(minutes=9, seconds=59)
    assert sign(leroy, last_code(registry)).json["review_state"] == "signed"


def test_a_code_is_used_once(leroy, registry, db):
    ask_code(leroy)
    code = last_code(registry)
    sign(leroy, code)
    with db() as request:           # back to sent, the same code does not sign again
        request.dbsession.scalar(select(Node).where(Node.path == CONSENT + "/")).state = "sent"
    assert sign(leroy, code, status=409).json["message"] == \
        "Ce code a déjà été utilisé : demandez un nouveau code."


def test_a_code_for_one_document_cannot_sign_another(leroy, registry, db):
    with db() as request:
        request.dbsession.scalar(select(Node).where(Node.path == DEVIS + "/")).state = "sent"
    ask_code(leroy, DEVIS)
    code = last_code(registry)
    response = sign(leroy, code, CONSENT, status=409)
    assert response.json["message"] == "Aucun code valable n'a été demandé : demandez un code."
    assert state_of(db, CONSENT) == "sent"
    assert sign(leroy, code, DEVIS).json["review_state"] == "signed"


def test_a_code_is_bound_to_the_user_it_was_sent_to(leroy, api, registry, db):
    ask_code(leroy)
    code = last_code(registry)
    with db() as request:            # another user who may sign the same document
        from cabinet.models import LocalRole, User
        session = request.dbsession
        other = session.scalar(select(User).where(User.login == "dr.weber"))
        other.phone = "+352621999999"
        node = session.scalar(select(Node).where(Node.path == LEROY + "/"))
        session.add(LocalRole(node_id=node.id, principal=other.principal, role="guardian"))
    assert sign(api("dr.weber"), code, status=409).json["message"] == \
        "Aucun code valable n'a été demandé : demandez un code."
    assert sign(leroy, code).json["review_state"] == "signed"


def test_resend_at_most_once_a_minute_and_five_times_an_hour(leroy, registry, clock):
    ask_code(leroy)
    first = last_code(registry)
    response = ask_code(leroy, status=429)
    assert response.json["message"] == \
        "Un code vient d'être envoyé : attendez une minute avant d'en demander un autre."
    for _ in range(4):
        clock.advance(minutes=1)
        ask_code(leroy)
    assert len(outbox(registry)) == 5
    clock.advance(minutes=1)
    assert "Trop de codes demandés en une heure" in ask_code(leroy, status=429).json["message"]
    assert len(outbox(registry)) == 5
    clock.advance(minutes=56)        # the first send leaves the hour
    ask_code(leroy)
    assert len(outbox(registry)) == 6
    # only the last code sent counts: an earlier one is a wrong code
    if first != last_code(registry):
        assert sign(leroy, first, status=409).json["message"] == \
            "Code incorrect : il vous reste 4 essai(s)."
    assert sign(leroy, last_code(registry)).json["review_state"] == "signed"


def test_no_code_for_a_document_that_cannot_be_signed(leroy, api, registry, db):
    assert "ne peut pas être signé" in ask_code(api("admin"), DEVIS, status=409).json["message"]
    with db() as request:
        request.dbsession.scalar(select(Node).where(Node.path == DEVIS + "/")).state = "signed"
    assert "ne peut pas être signé" in ask_code(leroy, DEVIS, status=409).json["message"]
    # document:sign is the patient's (and guardians'), not the professional's
    assert ask_code(api("dr.martin"), CONSENT, status=403).json["message"] == \
        "Vous ne pouvez pas signer ce document."
    ask_code(api("p.leroy"), f"{PARC}/patients/bernard/documents/consentement", status=403)
    with db() as request:
        doc = request.dbsession.scalar(select(Node).where(Node.path == CONSENT + "/"))
        doc.needs_signature = False
    assert "sans signature" in ask_code(leroy, status=409).json["message"]
    assert outbox(registry) == []


def test_the_sms_is_not_sent_when_the_request_fails(leroy, registry, db):
    with db() as request:
        from cabinet.models import User
        user = request.dbsession.scalar(select(User).where(User.login == "p.leroy"))
        user.phone = "not a phone"
        request.dbsession.scalar(select(Node).where(Node.path == LEROY + "/")).phone = ""
    response = ask_code(leroy, status=409)
    assert "Aucun numéro de portable" in response.json["message"]
    assert outbox(registry) == []


def test_a_secretary_gets_the_code_on_the_professionals_phone(demo, api, registry, db):
    """Signing through a delegation (can_sign): the code goes to the phone of the
    person whose right is used. No demo workflow lets a professional sign, so dr.martin
    is made a guardian of the record for the test."""
    from cabinet.models import Delegation, LocalRole, User
    with db() as request:
        session = request.dbsession
        martin = session.scalar(select(User).where(User.login == "dr.martin"))
        martin.phone = "+352 691 000 111"
        record = session.scalar(select(Node).where(Node.path == LEROY + "/"))
        session.add(LocalRole(node_id=record.id, principal=martin.principal,
                              role="guardian"))
    secretary = api("sec.dupont")
    ask_code(secretary, status=403)                  # the delegation cannot sign
    with db() as request:
        request.dbsession.scalar(select(Delegation).where(
            Delegation.name == "sec-dupont")).can_sign = True
    assert ask_code(secretary).json["sent_to"] == "+352••••••111"
    assert outbox(registry)[-1]["to"] == "+352691000111"
    assert sign(secretary, last_code(registry)).json["review_state"] == "signed"
