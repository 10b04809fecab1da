"""Sending caps of one-time codes (issue #6): per phone across every document and
login, and per requesting address; past them 429 and the SMS gateway is not called.
A decoy (a patient login for nobody) counts like a real code, so that the caps do
not tell a known person from an unknown one; and the identification takes the same
time for both (medians of 200 tries)."""
import pytest

from tests.security.test_one_time_code_attacks import (
    CONSENT, LEA, MARC, NOBODY, outbox, sent_document, start,
)


@pytest.fixture
def settings(settings):
    return {**settings, "cabinet.ratelimit.otp.phone": "3/hour",
            "cabinet.ratelimit.otp.address": "5/hour"}


def test_codes_to_one_phone_are_capped_across_documents(demo, api, registry):
    """Each document has its own resend limits; the phone has a cap over all."""
    leroy = api("p.leroy")
    documents = [CONSENT] + [sent_document(api, f"Document {n}") for n in range(3)]
    for path in documents[:3]:
        leroy.post(f"{path}/@sign-code")
    assert len(outbox(registry)) == 3
    refused = leroy.post(f"{documents[3]}/@sign-code", status=429)
    assert refused.json == {"type": "TooManyRequests",
                            "message": "Trop de codes envoyés par SMS : réessayez plus tard."}
    assert len(outbox(registry)) == 3            # the gateway was not called
    # a login to the same phone counts too
    start(testapp=leroy.testapp, status=429)
    assert len(outbox(registry)) == 3


def test_codes_asked_from_one_address_are_capped(demo, testapp, registry):
    people = [LEA, MARC, {"phone": "+352621000002", "last_name": "Bernard",
                          "first_name": "Hugo", "birth_date": "1979-09-03"}]
    for person in people:
        start(testapp, person)
    start(testapp, NOBODY)                   # a decoy counts like a real code
    start(testapp, {**MARC, "first_name": "Marcel"})
    assert len(outbox(registry)) == 3
    assert start(testapp, LEA, status=429).json["type"] == "TooManyRequests"
    assert len(outbox(registry)) == 3
    # another address is not concerned
    start(testapp, LEA, extra_environ={"REMOTE_ADDR": "10.0.0.9"})
    assert len(outbox(registry)) == 4


# -- known or unknown: the same time --------------------------------------------------

TRIES = 200


@pytest.fixture
def unlimited(settings):
    """No limit in the way of 2 x 200 identifications from one address and phone."""
    return {**settings, **{f"cabinet.ratelimit.{scope}": "100000/hour" for scope in (
        "patient_login.phone", "patient_login.address", "otp.phone", "otp.address")}}


def test_patient_login_takes_the_same_time_for_known_and_unknown(unlimited, engine):
    """Median times of 200 identifications each, interleaved, differ by < 20 ms
    (without the padding of cabinet.patient_login.min_seconds: the work itself)."""
    import statistics
    import time

    import webtest

    from cabinet import main
    from cabinet.scripts import script_request
    from cabinet.scripts.demo import load_demo
    from tests.conftest import empty_tables
    empty_tables(engine)
    app = main({}, **unlimited)
    request = script_request(app.registry)
    with request.tm:
        load_demo(request)
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                 "REMOTE_ADDR": "127.0.0.1"})
    times = {"known": [], "unknown": []}
    try:
        for _ in range(TRIES):
            for label, person in (("known", LEA), ("unknown", NOBODY)):
                started = time.perf_counter()
                client.post_json("/@patient-login", person, status=200)
                times[label].append(time.perf_counter() - started)
    finally:
        empty_tables(engine)
    difference = abs(statistics.median(times["known"]) - statistics.median(times["unknown"]))
    medians = {k: round(statistics.median(v) * 1000, 2) for k, v in times.items()}
    print("patient login medians (ms):", medians)
    assert difference < 0.020, medians
