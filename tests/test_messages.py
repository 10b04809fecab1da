"""Patient messaging (issue #9, P3), the patient's side: the conversation page at
/@@my-messages (phones first, a switcher between the records a person manages), the
JSON API (<patient>/@messages, /@my-messages), attachments both ways (JPEG, PNG,
PDF, checked by their bytes and size), read/unread per side, and refusals: another
patient's record or message, bad input (nothing changed)."""
import pytest
from sqlalchemy import func, select

from cabinet.models import Message
from cabinet.sample_files import make_pdf, make_png
from tests.conftest import Api, login
from tests.test_appointments import accept_terms, patient_token

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
BERNARD = f"{PARC}/patients/bernard"
LIMIT = 50_000
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@pytest.fixture
def settings(settings):
    return {**settings, "cabinet.upload_max_bytes": str(LIMIT)}


@pytest.fixture
def lea(demo, api):
    return api("p.leroy")


@pytest.fixture
def lea_page(demo, testapp):
    login(testapp, "p.leroy")
    return testapp


def count(db, **where):
    with db() as request:
        query = select(func.count(Message.id))
        for key, value in where.items():
            query = query.where(getattr(Message, key) == value)
        return request.dbsession.scalar(query)


def post_file(client, url, data, name="photo.png", text="", status=201, **fields):
    return client.testapp.post(url, params={"text": text, **fields},
                               upload_files=[("file", name, data)],
                               headers=client.headers, status=status)


def thread(page):
    return page.html.select("ol.thread li.message")


def csrf(page):
    return page.html.select_one("input[name=csrf_token]")["value"]


# -- the page --------------------------------------------------------------------------------

def test_the_patient_reads_the_demo_conversation_on_her_page(lea_page, db):
    assert count(db, side="cabinet", read_at=None) == 1
    page = lea_page.get("/@@my-messages")
    assert page.html.find("h1").get_text(strip=True) == "Messagerie"
    messages = thread(page)
    assert len(messages) == 4
    # oldest first, hers on her side, the cabinet's under the cabinet's name
    assert "sensibilité depuis le détartrage" in messages[0].get_text()
    assert "mine" in messages[0]["class"] and "theirs" in messages[1]["class"]
    assert "Cabinet dentaire du Parc" in messages[1].select_one(".author").get_text()
    assert messages[2].select_one(".attachment a").get_text(strip=True).endswith("photo.png")
    assert "Conversation avec Cabinet dentaire du Parc" in page.text
    # seeing them reads them: the cabinet's last message is read now
    assert count(db, side="cabinet", read_at=None) == 0
    assert page.html.select_one("meta[name=viewport]")["content"].startswith("width=device")


def test_the_patient_writes_and_the_cabinet_sees_it_unread(lea_page, martin, db):
    page = lea_page.get("/@@my-messages")
    form = page.forms[1] if len(page.forms) > 1 else page.forms[0]
    form = next(f for f in page.forms.values() if f.action.endswith("@@my-messages"))
    form["text"] = "Puis-je avancer mon rendez-vous ?"
    response = form.submit().follow()
    assert "Message envoyé." in response.text
    last = thread(response)[-1]
    assert "Puis-je avancer mon rendez-vous ?" in last.get_text()
    assert last.select_one(".read-state").get_text() == "Envoyé"
    # the clock says 09:00 UTC: 10:00 in Luxembourg, as the cabinet reads it
    assert last.select_one("time").get_text() == "10/03/2026 10:00"
    listing = martin.get(PARC + "/@messages").json
    assert listing["unread"] == 1
    assert [i["patient"]["title"] for i in listing["items"]] == ["Léa Leroy"]
    # the cabinet reads: on her page the message says "Lu"
    martin.post(LEROY + "/@messages/read", status=200)
    assert thread(lea_page.get("/@@my-messages"))[-1].select_one(
        ".read-state").get_text() == "Lu"


def test_markup_in_messages_and_file_names_is_text(lea_page, lea):
    post_file(lea, LEROY + "/@messages", make_png(), name="<img src=x onerror=alert(1)>.png",
              text="<script>alert('x')</script><b>gras</b>")
    page = lea_page.get("/@@my-messages")
    assert "<script>alert" not in page.text and "<b>gras</b>" not in page.text
    assert "&lt;script&gt;alert" in page.text
    last = thread(page)[-1]
    assert last.select_one("script") is None and last.select_one("img") is None
    assert "<img src=x onerror=alert(1)>.png" in last.select_one(".attachment a").get_text()


def test_an_empty_or_too_long_message_on_the_page_is_refused_in_place(lea_page, db):
    before = count(db)
    page = lea_page.get("/@@my-messages")
    form = next(f for f in page.forms.values() if f.action.endswith("@@my-messages"))
    form["text"] = "   "
    response = form.submit(status=422)
    assert "Écrivez un message ou joignez un fichier." in response.text
    form = next(f for f in response.forms.values() if f.action.endswith("@@my-messages"))
    form["text"] = "x" * 5001
    response = form.submit(status=422)
    assert "Le message dépasse 5000 caractères." in response.text
    assert count(db) == before


def test_a_wrong_file_on_the_page_is_refused_with_a_clear_message(lea_page, db):
    before = count(db)
    page = lea_page.get("/@@my-messages")
    form = next(f for f in page.forms.values() if f.action.endswith("@@my-messages"))
    form["text"] = "Ma radio"
    form["file"] = ("radio.pdf", b"<html><script>alert(1)</script></html>")
    response = form.submit(status=422)
    assert "seuls les images JPEG et PNG et les PDF" in response.text
    assert "Ma radio" in response.html.select_one("textarea[name=text]").get_text()
    assert count(db) == before


def test_a_guardian_switches_between_her_record_and_her_child(demo, testapp, registry, db):
    patient_token(testapp, registry)     # Léa's directory account: Hugo's guardian
    login(testapp, "p.leroy")
    page = testapp.get("/@@my-messages")
    switcher = page.html.select(".record-switcher a")
    assert [a.get_text(strip=True) for a in switcher] == ["Hugo Leroy", "Léa Leroy"]
    hugo = testapp.get(switcher[0]["href"])
    assert thread(hugo) == [] and "Aucun message pour l'instant." in hugo.html.get_text()
    form = next(f for f in hugo.forms.values() if f.action.endswith("@@my-messages"))
    assert form.action.endswith(HUGO + "/@@my-messages")
    form["text"] = "Hugo a mal à une dent."
    form["file"] = ("dent.jpg", JPEG)
    response = form.submit().follow()
    assert "Hugo a mal à une dent." in thread(response)[-1].get_text()
    assert count(db, side="patient", read_at=None) == 1
    assert "pour Hugo Leroy" in response.text


# -- JSON ------------------------------------------------------------------------------------

def test_json_conversation_unread_counts_and_reading(lea, martin):
    mine = lea.get("/@my-messages").json
    assert mine["unread"] == 1
    assert mine["items"][0]["patient"]["title"] == "Léa Leroy"
    assert mine["items"][0]["last_message"]["side"] == "cabinet"
    data = lea.get(LEROY + "/@messages").json
    assert data["side"] == "patient" and data["unread"] == 1
    assert data["items_total"] == 4 and data["items"][0]["read"] is False   # newest first
    assert data["items"][0]["@id"].endswith(f"{LEROY}/@messages/{data['items'][0]['id']}")
    assert "document" not in data["items"][0]          # staff only
    # GET reads nothing; POST .../read does
    assert lea.get(LEROY + "/@messages").json["unread"] == 1
    marked = lea.post(LEROY + "/@messages/read").json
    assert marked == {"@id": f"http://localhost{LEROY}/@messages", "marked_read": 1,
                      "unread": 0}
    assert lea.get("/@my-messages").json["unread"] == 0
    staff = martin.get(LEROY + "/@messages").json
    assert staff["side"] == "cabinet" and staff["unread"] == 0
    assert staff["items"][0]["read"] is True


def test_json_message_with_attachments_both_ways(lea, martin, db):
    sent = post_file(lea, LEROY + "/@messages", make_pdf("Ordonnance"), "ordo.pdf",
                     text="Mon ordonnance").json
    assert sent["side"] == "patient" and sent["text"] == "Mon ordonnance"
    assert sent["attachment"]["content_type"] == "application/pdf"
    assert sent["attachment"]["file_name"] == "ordo.pdf"
    url = sent["attachment"]["download"].removeprefix("http://localhost")
    for client in (lea, martin):
        download = client.get(url)
        assert download.body.startswith(b"%PDF")
        assert download.headers["Content-Disposition"].startswith('attachment; filename="ordo.pdf"')
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.content_type == "application/pdf"
    reply = post_file(martin, LEROY + "/@messages", make_png(), "schema.pdf",
                      text="Voici le schéma").json
    assert reply["side"] == "cabinet"
    assert reply["attachment"]["content_type"] == "image/png"     # from the bytes
    assert reply["attachment"]["file_name"] == "schema.pdf.png"
    got = lea.get(reply["attachment"]["download"].removeprefix("http://localhost"))
    assert got.content_type == "image/png"
    assert lea.get(reply["@id"].removeprefix("http://localhost")).json["text"] == \
        "Voici le schéma"
    # a message with a file and no text is fine
    assert post_file(lea, LEROY + "/@messages", JPEG, "x.jpg").json["text"] == ""


@pytest.mark.parametrize("name, data", [
    ("photo.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ("scan.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("scan.pdf", b"%PDF-1.4\nno end of file marker"),
    ("doc.pdf", make_pdf("Devis").replace(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (x) >> >>")),
    ("virus.exe", b"MZ\x90\x00\x03"),
])
def test_a_file_of_the_wrong_type_is_refused_422_and_nothing_changes(lea, db, name, data):
    before = count(db)
    response = post_file(lea, LEROY + "/@messages", data, name, text="x", status=422)
    assert response.json["type"] == "ValidationError"
    assert response.json["field"] == "file"
    assert "JPEG" in response.json["message"] or "contenu actif" in response.json["message"]
    assert count(db) == before


def test_an_oversized_file_is_refused_413_with_the_limit(lea, db):
    before = count(db)
    big = make_pdf("Gros") + b"%" + b"x" * (LIMIT + 10) + b"\n%%EOF\n"
    response = post_file(lea, LEROY + "/@messages", big, "gros.pdf", status=413)
    assert response.json["type"] == "PayloadTooLarge"
    assert response.json["max_bytes"] == LIMIT
    assert count(db) == before


@pytest.mark.parametrize("body, message", [
    ({}, "Écrivez un message ou joignez un fichier."),
    ({"text": "  \n "}, "Écrivez un message ou joignez un fichier."),
    ({"text": "x" * 5001}, "Le message dépasse 5000 caractères."),
    ({"text": 42}, "Ce champ doit être un texte."),
    ({"text": "Bonjour", "template": "1"}, "Seul le cabinet utilise des modèles de réponse."),
])
def test_bad_json_messages_are_refused_422(lea, db, body, message):
    before = count(db)
    response = lea.post(LEROY + "/@messages", body, status=422)
    assert response.json["message"] == message
    assert count(db) == before


def test_5000_characters_are_accepted(lea):
    assert len(lea.post(LEROY + "/@messages", {"text": "é" * 5000}, status=201)
               .json["text"]) == 5000


def test_a_page_post_without_its_token_is_refused(lea_page, db):
    before = count(db)
    response = lea_page.post(LEROY + "/@@my-messages", {"text": "forgé"}, status=403)
    assert "jeton de sécurité" in response.text
    assert count(db) == before


# -- other people's conversations ------------------------------------------------------------

def test_another_patient_s_conversation_and_messages_are_refused(demo, api, testapp, db):
    schmit = Api(testapp, patient_token(testapp, demo.registry, {
        "phone": "+352621000004", "last_name": "Schmit", "first_name": "Marc",
        "birth_date": "1990-06-30"}))
    with db() as request:
        accept_terms(request)
    lea_ids = [m["id"] for m in api("dr.martin").get(LEROY + "/@messages").json["items"]]
    photo = next(m for m in api("dr.martin").get(LEROY + "/@messages").json["items"]
                 if m["attachment"])
    before = count(db)
    for url in (LEROY + "/@messages", f"{LEROY}/@messages/{lea_ids[0]}",
                f"{LEROY}/@messages/{photo['id']}/attachment"):
        response = schmit.get(url, status=403)
        assert response.json["type"] == "Forbidden"
        assert "Leroy" not in response.text and "sensibilité" not in response.text
    schmit.post(LEROY + "/@messages", {"text": "intrus"}, status=403)
    schmit.post(LEROY + "/@messages/read", status=403)
    # Léa's message ids through his own record: as if they did not exist
    own = "/cabinets/parc/patients/schmit"
    for message_id in lea_ids:
        response = schmit.get(f"{own}/@messages/{message_id}", status=404)
        assert "sensibilité" not in response.text
    schmit.get(f"{own}/@messages/{photo['id']}/attachment", status=404)
    assert schmit.get(own + "/@messages").json["items"] == []
    assert count(db) == before


def test_a_guardian_without_minors_access_and_anonymous_visitors_are_refused(
        demo, testapp, lea):
    # Léa without her directory account: no guardian role on Hugo
    lea.get(HUGO + "/@messages", status=403)
    lea.post(HUGO + "/@messages", {"text": "x"}, status=403)
    assert testapp.get(LEROY + "/@messages", status=401).json["type"] == "Unauthorized"
    page = testapp.get("/@@my-messages", status=302)
    assert "/login?came_from=" in page.location


def test_a_user_who_manages_no_record_sees_an_empty_page(demo, testapp, api):
    assert api("dr.martin").get("/@my-messages").json == {
        "@id": "http://localhost/@my-messages", "items": [], "unread": 0}
    login(testapp, "dr.martin")
    page = testapp.get("/@@my-messages")
    assert "Aucun dossier patient n'est lié à votre compte." in page.html.get_text()
    # and the patient's record page is the staff's conversation, not hers
    testapp.get(LEROY + "/@@my-messages", status=403)


def test_the_conversation_through_an_item_she_may_not_see_is_refused(lea):
    """On any resource of the record, the conversation answers only to whoever may
    see that resource (the pending estimate is not hers): no existence leaks."""
    assert lea.get(LEROY + "/documents/consentement/@messages").json["items_total"] == 4
    lea.get(LEROY + "/documents/devis/@messages", status=403)
    lea.post(LEROY + "/documents/devis/@messages", {"text": "x"}, status=403)
