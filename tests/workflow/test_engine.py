"""Firing transitions through the JSON API and the page's buttons: the state changes,
the history tells who did what, IAfterTransition is notified; a refused or failed
transition changes nothing and writes nothing."""
import re
import secrets
from datetime import timedelta

import pytest
import webtest.forms
from sqlalchemy import select

from cabinet.interfaces import IAfterTransition
from cabinet.models import ApiToken, User
from cabinet.security import token_hash
from tests.conftest import Api, login

DOCS = "/cabinets/parc/patients/leroy/documents"
QUESTIONNAIRES = "/cabinets/parc/patients/leroy/questionnaires"
DEVIS = f"{DOCS}/devis"                  # pending
CONSENTEMENT = f"{DOCS}/consentement"    # sent, needs a signature
RADIO = f"{DOCS}/radio"                  # signed (final)


@pytest.fixture
def client(app, db, testapp, clock):
    """``client('dr.martin')``: a JSON client with a bearer token minted for that user
    (as ``POST /@login`` does, without paying for argon2 at every call)."""
    def make(login_name):
        token = secrets.token_urlsafe(32)
        with db() as request:
            user = request.dbsession.scalar(select(User).where(User.login == login_name))
            request.dbsession.add(ApiToken(user_id=user.id, token_hash=token_hash(token),
                                           created=clock.now(),
                                           expires=clock.now() + timedelta(hours=12)))
        return Api(testapp, token)
    return make


@pytest.fixture
def events(registry):
    """Every IAfterTransition notified during the test."""
    seen = []

    def handler(event):
        seen.append({"path": event.object.path, "transition": event.transition,
                     "from": event.from_state, "to": event.to_state,
                     "workflow": event.workflow.name,
                     "actor": event.request.identity.login,
                     "comment": event.history.comment,
                     "state_then": event.object.state})
    registry.registerHandler(handler, (IAfterTransition,))
    yield seen
    registry.unregisterHandler(handler, (IAfterTransition,))


def state_of(api_client, path):
    return api_client.get(path).json["review_state"]


def history_of(api_client, path):
    return api_client.get(f"{path}/@history").json


# -- JSON -----------------------------------------------------------------------------

def test_fire_a_transition_through_the_api(demo, api, events):
    martin = api("dr.martin")           # a real POST /@login
    before = martin.get(f"{DEVIS}/@workflow").json
    assert before["review_state"] == "pending"
    assert "send" in [t["id"] for t in before["transitions"]]

    response = martin.post(f"{DEVIS}/@workflow/send", {"comment": "Voici le devis."})
    assert response.status_int == 200
    assert response.json["review_state"] == "sent"
    assert response.json["actor"] == "dr.martin"
    assert response.json["comments"] == "Voici le devis."
    assert [t["id"] for t in response.json["transitions"]] == ["withdraw"]

    assert state_of(martin, DEVIS) == "sent"
    after = martin.get(f"{DEVIS}/@workflow").json
    assert after["review_state"] == "sent"
    assert [t["id"] for t in after["transitions"]] == ["withdraw"]
    assert [h["transition"] for h in after["history"]] == ["send"]

    assert events == [{"path": "/cabinets/parc/patients/leroy/documents/devis/",
                       "transition": "send", "from": "pending", "to": "sent",
                       "workflow": "document", "actor": "dr.martin",
                       "comment": "Voici le devis.", "state_then": "sent"}]


def test_history_shows_actor_comment_and_states(demo, client, clock):
    martin = client("dr.martin")
    assert history_of(martin, DEVIS) == []
    clock.set(clock.now().replace(hour=10, minute=30, second=0))
    martin.post(f"{DEVIS}/@workflow/send", {"comment": "Premier envoi"})
    clock.advance(hours=1)
    martin.post(f"{DEVIS}/@workflow/withdraw", {"comment": "Erreur de montant"})
    clock.advance(hours=1)
    martin.post(f"{DEVIS}/@workflow/send")

    history = history_of(martin, DEVIS)
    assert [(h["transition"], h["from_state"], h["review_state"], h["comments"])
            for h in history] == [
        ("send", "withdrawn", "sent", ""),
        ("withdraw", "sent", "withdrawn", "Erreur de montant"),
        ("send", "pending", "sent", "Premier envoi"),
    ]
    assert all(h["actor"]["id"] == "dr.martin" for h in history)
    assert all(h["actor"]["fullname"] == "Dr Paul Martin" for h in history)
    assert all(h["acting_for"] is None for h in history)
    assert [h["time"] for h in history] == [
        "2026-03-10T12:30:00+00:00", "2026-03-10T11:30:00+00:00", "2026-03-10T10:30:00+00:00"]


def test_another_user_fires_the_next_transition(demo, client, events):
    """The patient signs what the professional sent: the history names each of them."""
    martin, leroy = client("dr.martin"), client("p.leroy")
    # p.leroy sees her filled questionnaire but has nothing to do on it yet
    assert leroy.get(f"{QUESTIONNAIRES}/suivi/@workflow").json["transitions"] == []
    martin.post(f"{QUESTIONNAIRES}/suivi/@workflow/validate", {"comment": "OK"})
    assert [t["id"] for t in leroy.get(f"{QUESTIONNAIRES}/suivi/@workflow").json[
        "transitions"]] == ["sign"]
    history = history_of(martin, f"{QUESTIONNAIRES}/suivi")
    assert history[0]["actor"]["id"] == "dr.martin"
    assert history[0]["review_state"] == "validated"
    assert [e["transition"] for e in events] == ["validate"]


def test_unavailable_transition_is_409_with_the_current_state(demo, client, events):
    martin = client("dr.martin")
    response = martin.post(f"{DEVIS}/@workflow/withdraw", {"comment": "x"}, status=409)
    assert response.json["type"] == "Conflict"
    assert response.json["review_state"] == "pending"
    assert "withdraw" in response.json["message"]
    # the final state has no way out
    response = martin.post(f"{RADIO}/@workflow/send", status=409)
    assert response.json["review_state"] == "signed"
    # firing twice: the second finds the new state
    martin.post(f"{DEVIS}/@workflow/send")
    response = martin.post(f"{DEVIS}/@workflow/send", status=409)
    assert response.json["review_state"] == "sent"
    assert len(history_of(martin, DEVIS)) == 1
    assert history_of(martin, RADIO) == []
    assert [e["transition"] for e in events] == ["send"]


def test_automatic_transition_cannot_be_fired_by_hand(demo, client):
    martin = client("dr.martin")
    path = "/professionals/martin/delegations/sec-dupont"
    response = martin.post(f"{path}/@workflow/expire", status=409)
    assert response.json["review_state"] == "active"
    assert state_of(martin, path) == "active"
    assert history_of(martin, path) == []


def test_transition_without_permission_is_403(demo, client, events):
    leroy, martin = client("p.leroy"), client("dr.martin")
    # p.leroy sees the sent document, and withdraw is possible from 'sent', not for her
    assert state_of(leroy, CONSENTEMENT) == "sent"
    assert "withdraw" not in [t["id"] for t in leroy.get(
        f"{CONSENTEMENT}/@workflow").json["transitions"]]
    response = leroy.post(f"{CONSENTEMENT}/@workflow/withdraw", {"comment": "non"},
                          status=403)
    assert response.json["type"] == "Forbidden"
    # on a patient she is not: she cannot even see it
    leroy.post("/cabinets/parc/patients/bernard/documents/devis/@workflow/send",
               status=403)
    assert state_of(martin, CONSENTEMENT) == "sent"
    assert state_of(martin, "/cabinets/parc/patients/bernard/documents/devis") == "pending"
    assert history_of(martin, CONSENTEMENT) == []
    assert history_of(martin, "/cabinets/parc/patients/bernard/documents/devis") == []
    assert events == []


def test_anonymous_cannot_fire(demo, testapp):
    response = testapp.post_json(f"{DEVIS}/@workflow/send", {},
                                 headers={"Accept": "application/json"}, status=401)
    assert response.json["type"] == "Unauthorized"


def test_unknown_transition_is_404(demo, client, events):
    martin = client("dr.martin")
    response = martin.post(f"{DEVIS}/@workflow/publish", status=404)
    assert response.json["type"] == "NotFound"
    assert "publish" in response.json["message"]
    assert state_of(martin, DEVIS) == "pending"
    assert history_of(martin, DEVIS) == []
    assert events == []


def test_failing_guard_is_409_and_writes_nothing(demo, client, events):
    leroy, martin = client("p.leroy"), client("dr.martin")
    # the questionnaire has no answers yet: 'fill' is refused by its guard
    response = leroy.post(f"{QUESTIONNAIRES}/anamnese/@workflow/fill", status=409)
    assert response.json["review_state"] == "sent"
    assert response.json["guard"] == "answers_complete"
    assert state_of(martin, f"{QUESTIONNAIRES}/anamnese") == "sent"
    assert history_of(martin, f"{QUESTIONNAIRES}/anamnese") == []
    assert events == []


def test_a_failing_subscriber_rolls_everything_back(demo, client, registry):
    """The state change, the history row and the subscriber share one transaction."""
    martin = client("dr.martin")

    def explode(event):
        raise RuntimeError("the mail server is on fire")
    registry.registerHandler(explode, (IAfterTransition,))
    try:
        response = martin.post(f"{DEVIS}/@workflow/send", {"comment": "x"}, status=500)
    finally:
        registry.unregisterHandler(explode, (IAfterTransition,))
    assert response.json["type"] == "ServerError"
    assert state_of(martin, DEVIS) == "pending"
    assert history_of(martin, DEVIS) == []


def test_bad_bodies_are_refused_without_writing(demo, client, testapp):
    martin = client("dr.martin")
    response = testapp.post(f"{DEVIS}/@workflow/send", "{not json",
                            headers={**martin.headers, "Content-Type": "application/json"},
                            status=400)
    assert response.json["type"] == "BadRequest"
    martin.post(f"{DEVIS}/@workflow/send", {"comment": ["a", "list"]}, status=422)
    assert state_of(martin, DEVIS) == "pending"
    assert history_of(martin, DEVIS) == []


# -- HTML -----------------------------------------------------------------------------

def transition_buttons(page):
    """transition name -> (form, button) for each button of the page's workflow form(s)."""
    buttons = {}
    for form in page.forms.values():
        if not form.action.endswith("/@@workflow"):
            continue
        for field in form.fields.get("transition", []):
            if isinstance(field, webtest.forms.Submit):
                buttons[field.value_if_submitted()] = (form, field)
            else:  # one form per transition with a hidden field
                buttons[field.value] = (form, None)
    return buttons


def press(page, name, comment=None, **kw):
    """Click the button of transition ``name`` (after typing ``comment``)."""
    form, button = transition_buttons(page)[name]
    if comment is not None:
        form["comment"] = comment
    if button is not None:
        return form.submit("transition", value=name, **kw)
    return form.submit(**kw)


def csrf_token(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_page_buttons_fire_transitions(demo, testapp, events):
    login(testapp, "dr.martin")
    page = testapp.get(DEVIS)
    assert 'data-state="pending"' in page.text
    assert set(transition_buttons(page)) == {"send"}

    response = press(page, "send")
    assert response.status_int == 303
    assert response.location.endswith(DEVIS)
    page = response.follow()
    assert 'data-state="sent"' in page.text
    assert "Envoyé" in page.text                           # the state's title
    assert set(transition_buttons(page)) == {"withdraw"}
    history = page.html.select("section.history tbody tr")
    assert len(history) == 1
    assert "Dr Paul Martin" in history[0].text
    assert "send" in history[0].text or "Envoyer" in history[0].text
    assert [(e["transition"], e["actor"]) for e in events] == [("send", "dr.martin")]


def test_page_shows_only_the_buttons_the_user_may_fire(demo, testapp):
    login(testapp, "p.leroy")
    assert set(transition_buttons(testapp.get(CONSENTEMENT))) == {"sign"}
    assert set(transition_buttons(testapp.get(f"{QUESTIONNAIRES}/anamnese"))) == {"fill"}
    assert set(transition_buttons(testapp.get(RADIO))) == set()


def test_page_button_with_a_comment(demo, testapp, client):
    login(testapp, "dr.martin")
    press(testapp.get(DEVIS), "send", comment="Par la page", status=303)
    history = history_of(client("dr.martin"), DEVIS)
    assert [(h["transition"], h["comments"], h["actor"]["id"]) for h in history] == [
        ("send", "Par la page", "dr.martin")]


def test_page_post_without_csrf_token_is_refused(demo, testapp, client, events):
    login(testapp, "dr.martin")
    testapp.get(DEVIS)
    response = testapp.post(f"{DEVIS}/@@workflow", {"transition": "send"}, status=403)
    assert "jeton" in response.text.lower() or "token" in response.text.lower()
    testapp.post(f"{DEVIS}/@@workflow", {"transition": "send", "csrf_token": "forged"},
                 status=403)
    martin = client("dr.martin")
    assert state_of(martin, DEVIS) == "pending"
    assert history_of(martin, DEVIS) == []
    assert events == []


def test_page_post_of_a_stale_button_is_409(demo, testapp, client):
    """Two tabs: the button of the first is stale once the second has fired."""
    login(testapp, "dr.martin")
    page = testapp.get(DEVIS)
    press(page, "send", status=303)
    response = press(page, "send", status=409)
    assert "sent" in response.text or "Envoyé" in response.text
    assert len(history_of(client("dr.martin"), DEVIS)) == 1


def test_page_post_without_permission_is_403(demo, testapp, client):
    login(testapp, "p.leroy")
    token = csrf_token(testapp.get(CONSENTEMENT))
    testapp.post(f"{CONSENTEMENT}/@@workflow", {"csrf_token": token,
                                                "transition": "withdraw"}, status=403)
    martin = client("dr.martin")
    assert state_of(martin, CONSENTEMENT) == "sent"
    assert history_of(martin, CONSENTEMENT) == []


def test_page_post_of_an_unknown_transition_is_404(demo, testapp, client):
    login(testapp, "dr.martin")
    token = csrf_token(testapp.get(DEVIS))
    testapp.post(f"{DEVIS}/@@workflow", {"csrf_token": token, "transition": "publish"},
                 status=404)
    assert state_of(client("dr.martin"), DEVIS) == "pending"
