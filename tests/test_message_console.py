"""Patient messaging (issue #9, P3), the cabinet's side (issue #10, K3, K4): the
console list of conversations with unread messages (newest first, paginated), a
patient's conversation for staff (read, reply, reply templates with their file, a
secretary acting for her professional), filing a patient's attachment into the
record's documents, the reply templates page and API, and new-message mails."""
import pytest
from pyramid_mailer.interfaces import IMailer
from sqlalchemy import func, select

from cabinet.models import Document, HistoryEntry, Message, MessageTemplate, Node
from cabinet.sample_files import make_pdf, make_png
from tests.conftest import login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
BERNARD = f"{PARC}/patients/bernard"
SCHMIT = f"{PARC}/patients/schmit"
HUGO = f"{PARC}/patients/hugo-leroy"


@pytest.fixture
def lea(demo, api):
    return api("p.leroy")


@pytest.fixture
def staff_page(demo, testapp):
    login(testapp, "dr.martin")
    return testapp


def write_as_patient(db, record, text, minutes=0):
    """A patient's unread message on ``record`` (a row as the API writes it)."""
    from datetime import timedelta
    from cabinet.interfaces import IClock
    with db() as request:
        session = request.dbsession
        node = session.scalar(select(Node).where(Node.path == record + "/"))
        cabinet = session.scalar(select(Node).where(Node.path == PARC + "/"))
        now = request.registry.getUtility(IClock).now()
        session.add(Message(patient_id=node.id, cabinet_id=cabinet.id, side="patient",
                            text=text, author_name=node.title, content_type="",
                            file_name="", created=now + timedelta(minutes=minutes)))


def templates(db):
    with db() as request:
        return {t.title: t.id for t in request.dbsession.scalars(select(MessageTemplate))}


def documents(db, record):
    with db() as request:
        return request.dbsession.scalar(select(func.count(Document.id)).where(
            Document.path.startswith(record + "/documents/")))


# -- the console list --------------------------------------------------------------------

def test_the_console_lists_unread_conversations_newest_first_paginated(martin, db):
    assert martin.get(PARC + "/@messages").json["items"] == []      # the demo's: read
    write_as_patient(db, LEROY, "Première", minutes=1)
    write_as_patient(db, BERNARD, "Deuxième", minutes=2)
    write_as_patient(db, SCHMIT, "Troisième", minutes=3)
    write_as_patient(db, BERNARD, "Encore", minutes=4)
    data = martin.get(PARC + "/@messages").json
    assert data["unread"] == 4 and data["items_total"] == 3
    assert [(i["patient"]["title"], i["unread"]) for i in data["items"]] == [
        ("Hugo Bernard", 2), ("Marc Schmit", 1), ("Léa Leroy", 1)]
    assert data["items"][0]["last_message"]["text"] == "Encore"
    page = martin.get(PARC + "/@messages?b_size=2").json
    assert len(page["items"]) == 2 and "next" in page["batching"]
    second = martin.get(page["batching"]["next"].removeprefix("http://localhost")).json
    assert [i["patient"]["title"] for i in second["items"]] == ["Léa Leroy"]
    # reading Bernard's conversation takes it off the list; "all" keeps every one
    martin.post(BERNARD + "/@messages/read")
    assert [i["patient"]["title"] for i in martin.get(PARC + "/@messages").json["items"]] \
        == ["Marc Schmit", "Léa Leroy"]
    every = martin.get(PARC + "/@messages?filter=all").json
    assert every["items_total"] == 3 and every["filter"] == "all"
    martin.get(PARC + "/@messages?filter=bogus", status=400)


def test_the_console_page_then_the_conversation_page_reads_it(staff_page, db):
    write_as_patient(db, LEROY, "J'ai perdu un plombage.")
    page = staff_page.get(PARC + "/@@messages")
    assert "1 message(s) non lu(s)" in page.text
    row = page.html.select_one("table.conversations tr.unread")
    assert "J'ai perdu un plombage." in row.get_text()
    conversation = staff_page.get(row.select_one("a")["href"])
    assert conversation.request.path == LEROY + "/@@conversation"
    assert "J'ai perdu un plombage." in conversation.html.select("li.message")[-1].get_text()
    assert "Aucun message non lu." in staff_page.get(PARC + "/@@messages").html.get_text()
    # the cabinet page and the record page link to them
    assert staff_page.get(PARC).html.select_one(".message-links a")["href"].endswith(
        "/@@messages")
    assert staff_page.get(LEROY).html.select_one(".message-links a")["href"].endswith(
        "/@@conversation")


# -- replying, with a template ---------------------------------------------------------------

def test_a_reply_with_a_template_takes_its_text_and_file(staff_page, lea, db):
    ids = templates(db)
    page = staff_page.get(LEROY + "/@@conversation")
    chooser = next(f for f in page.forms.values() if "choose-template" in
                   (f.html.form.get("class") or []))
    chooser["template"] = str(ids["Consignes après extraction"])
    page = chooser.submit()
    form = next(f for f in page.forms.values() if f.action.endswith("@@conversation")
                and f.method.lower() == "post")
    assert form["text"].value.startswith("Bonjour, vous trouverez ci-joint les consignes")
    assert "consignes-extraction.pdf" in page.html.select_one(".template-file").get_text()
    form["text"] = form["text"].value + "\nDr Martin"
    response = form.submit().follow()
    assert "Réponse envoyée." in response.text
    data = lea.get(LEROY + "/@messages").json
    last = data["items"][0]
    assert last["side"] == "cabinet" and last["text"].endswith("Dr Martin")
    assert last["attachment"]["file_name"] == "consignes-extraction.pdf"
    assert lea.get(last["attachment"]["download"].removeprefix("http://localhost")
                   ).body.startswith(b"%PDF")
    assert data["unread"] == 2       # the demo's unread answer and this one


def test_a_template_in_json_and_another_cabinets_template_is_unknown(martin, db):
    ids = templates(db)
    sent = martin.post(LEROY + "/@messages",
                       {"template": ids["Confirmation de rendez-vous"]}, status=201).json
    assert sent["text"].startswith("Bonjour, votre rendez-vous est bien confirmé")
    assert sent["attachment"] is None
    for bogus in (999999, "abc", -1, "../1"):
        response = martin.post(LEROY + "/@messages", {"text": "x", "template": bogus},
                               status=422)
        assert response.json["field"] == "template"


def test_a_secretary_replies_for_her_professional(demo, api, db):
    dupont = api("sec.dupont")
    data = dupont.get(LEROY + "/@messages").json
    assert data["side"] == "cabinet"
    sent = dupont.post(LEROY + "/@messages", {"text": "Votre dossier est prêt."},
                       status=201).json
    assert sent["author"] == "Sophie Dupont" and sent["acting_for"] == "Dr Paul Martin"
    with db() as request:
        entry = request.dbsession.scalar(select(HistoryEntry).where(
            HistoryEntry.action == "message").order_by(HistoryEntry.id.desc()))
        assert entry.acting_for_id is not None and entry.details["side"] == "cabinet"


def test_new_message_mails_go_after_commit_without_the_message(martin, lea, registry):
    outbox = registry.getUtility(IMailer).outbox
    lea.post(LEROY + "/@messages", {"text": "Une question sur ma facture"}, status=201)
    mail = outbox[-1]
    assert mail.recipients == ["contact@parc.example"]
    assert mail.subject == "Nouveau message d'un patient"
    assert "facture" not in mail.body and "Leroy" not in mail.body
    martin.post(LEROY + "/@messages", {"text": "Réponse sur la facture"}, status=201)
    mail = outbox[-1]
    assert mail.recipients == ["lea.leroy@example.org"]
    assert "facture" not in mail.body and "/@@my-messages" in mail.body
    before = len(outbox)
    lea.post(LEROY + "/@messages", {"text": ""}, status=422)       # refused: no mail
    assert len(outbox) == before


# -- filing a patient's attachment -------------------------------------------------------

def test_staff_file_a_patient_photo_into_her_documents(staff_page, martin, lea, db):
    before = documents(db, LEROY)
    page = staff_page.get(LEROY + "/@@conversation")
    form = next(f for f in page.forms.values() if f.action.endswith("/file"))
    form["document_type"] = "radiographie"
    form["title"] = "Photo de la gencive"
    response = form.submit().follow()
    assert "Pièce jointe classée dans les documents : « Photo de la gencive »." in \
        response.text
    assert documents(db, LEROY) == before + 1
    with db() as request:
        doc = request.dbsession.scalar(select(Document).where(
            Document.title == "Photo de la gencive"))
        assert doc.path.startswith(LEROY + "/documents/")
        assert doc.content_type == "image/png" and doc.file_name == "photo.png"
        assert doc.state == "pending" and doc.document_type_id is not None
        message = request.dbsession.scalar(select(Message).where(
            Message.document_id == doc.id))
        assert message.file_name == "photo.png"
    filed = next(m for m in martin.get(LEROY + "/@messages").json["items"]
                 if m["attachment"])
    assert filed["document"].endswith(doc.path.rstrip("/"))
    # the document is the cabinet's (pending): the patient's view of the message
    # has no such link
    assert "document" not in next(m for m in lea.get(LEROY + "/@messages").json["items"]
                                  if m["attachment"])
    # once only
    response = martin.post(f"{LEROY}/@messages/{filed['id']}/file",
                           {"document_type": "radiographie"}, status=409)
    assert "déjà classée" in response.json["message"]
    assert documents(db, LEROY) == before + 1


def test_filing_refusals(martin, lea, db):
    items = martin.get(LEROY + "/@messages").json["items"]
    photo = next(m for m in items if m["attachment"])
    text_only = next(m for m in items if not m["attachment"])
    before = documents(db, LEROY)
    # the patient does not file; another record's id is unknown there; a message
    # without file; a document type the cabinet does not have
    lea.post(f"{LEROY}/@messages/{photo['id']}/file", {}, status=403)
    martin.post(f"{BERNARD}/@messages/{photo['id']}/file", {}, status=404)
    martin.post(f"{LEROY}/@messages/{text_only['id']}/file", {}, status=404)
    response = martin.post(f"{LEROY}/@messages/{photo['id']}/file",
                           {"document_type": "inconnu"}, status=422)
    assert "Type de document inconnu" in response.json["message"]
    reply = martin.testapp.post(LEROY + "/@messages", params={"text": ""},
                                upload_files=[("file", "x.pdf", make_pdf("X"))],
                                headers=martin.headers, status=201).json
    martin.post(f"{LEROY}/@messages/{reply['id']}/file", {}, status=422)
    assert documents(db, LEROY) == before
    created = martin.post(f"{LEROY}/@messages/{photo['id']}/file",
                          {"document_type": "radiographie", "title": "Photo"}, status=201).json
    assert created["document"]["title"] == "Photo"
    assert created["message"]["document"] == created["document"]["@id"]


# -- reply templates ---------------------------------------------------------------------------

def test_templates_page_add_edit_remove_file_delete(staff_page, db):
    page = staff_page.get(PARC + "/@@message-templates")
    titles = [h.get_text() for h in page.html.select("li.template h2")]
    assert titles == ["Confirmation de rendez-vous", "Consignes après extraction"]
    new = next(f for f in page.forms.values() if f.action.endswith("/@@message-templates"))
    new["title"] = "Devis"
    new["text"] = "Voici votre devis."
    new["file"] = ("devis.pdf", make_pdf("Devis"))
    page = new.submit().follow()
    assert "Modèle « Devis » enregistré." in page.text
    template_id = templates(db)["Devis"]
    edit = next(f for f in page.forms.values()
                if f.action.endswith(f"/@@message-templates/{template_id}"))
    edit["text"] = "Voici votre devis, à signer."
    edit["remove_file"] = True
    page = edit.submit().follow()
    with db() as request:
        template = request.dbsession.get(MessageTemplate, template_id)
        assert template.text == "Voici votre devis, à signer."
        assert template.blob_sha256 is None and template.file_name == ""
    delete = next(f for f in page.forms.values()
                  if f.action.endswith(f"/@@message-templates/{template_id}/delete"))
    page = delete.submit().follow()
    assert "Modèle « Devis » supprimé." in page.text
    assert "Devis" not in templates(db)


def test_templates_page_refuses_bad_input_in_place(staff_page, db):
    before = templates(db)
    page = staff_page.get(PARC + "/@@message-templates")
    new = next(f for f in page.forms.values() if f.action.endswith("/@@message-templates"))
    new["title"] = ""
    new["text"] = "Sans titre"
    response = new.submit(status=422)
    assert "Donnez un titre au modèle." in response.text
    new = next(f for f in response.forms.values()
               if f.action.endswith("/@@message-templates"))
    new["title"] = "Image"
    new["text"] = "x"
    new["file"] = ("image.png", b"<svg onload=alert(1)>")
    response = new.submit(status=422)
    assert "seuls les images JPEG et PNG et les PDF" in response.text
    assert templates(db) == before


def test_templates_json_crud_and_refusals(martin, lea, api, db):
    listing = martin.get(PARC + "/@message-templates").json
    assert [t["title"] for t in listing["items"]] == ["Confirmation de rendez-vous",
                                                      "Consignes après extraction"]
    with_file = listing["items"][1]
    assert martin.get(with_file["attachment"]["download"].removeprefix(
        "http://localhost")).headers["X-Content-Type-Options"] == "nosniff"
    created = martin.post(PARC + "/@message-templates",
                          {"title": "Rappel", "text": "N'oubliez pas."}, status=201).json
    url = created["@id"].removeprefix("http://localhost")
    assert martin.patch(url, {"title": "Rappel !"}).json["text"] == "N'oubliez pas."
    photo = martin.testapp.post(url, params={"title": "Rappel !", "text": "Avec photo"},
                                upload_files=[("file", "p.png", make_png())],
                                headers=martin.headers).json
    assert photo["attachment"]["content_type"] == "image/png"
    martin.patch(url, {"text": ""}, status=422)
    martin.patch(url, {"title": "x" * 201}, status=422)
    # not the patient's, nor another cabinet's staff
    lea.get(PARC + "/@message-templates", status=403)
    lea.post(PARC + "/@message-templates", {"title": "x", "text": "y"}, status=403)
    lea.delete(url, status=403)
    martin.delete(url, status=204)
    martin.get(url, status=404)
    martin.get(PARC + "/@message-templates/abc", status=404)
    assert "Rappel !" not in templates(db)


# -- lists keep their query count ----------------------------------------------------------

def test_the_console_list_and_a_conversation_cost_the_same_queries_at_any_size(
        martin, demo, db):
    from tests.views.test_query_budget import selects, statements
    engine = demo.registry["db_engine"]

    def cost(url):
        with statements(engine) as seen:
            martin.get(url)
        return len(selects(seen))

    write_as_patient(db, LEROY, "Un")
    small = (cost(PARC + "/@messages"), cost(LEROY + "/@messages"),
             cost(PARC + "/@@messages"))
    for n, record in enumerate((BERNARD, SCHMIT, f"{PARC}/patients/muller") * 10):
        write_as_patient(db, record, f"Message {n}", minutes=n)
        write_as_patient(db, LEROY, f"Encore {n}", minutes=n)
    large = (cost(PARC + "/@messages"), cost(LEROY + "/@messages"),
             cost(PARC + "/@@messages"))
    assert small == large
    assert martin.get(PARC + "/@messages").json["items_total"] == 4


def test_the_blob_collector_keeps_the_files_of_messages_and_templates(demo, db):
    from cabinet.blobs import referenced_hashes
    with db() as request:
        session = request.dbsession
        files = {sha for model in (Message, MessageTemplate)
                 for sha in session.scalars(select(model.blob_sha256))} - {None}
        assert len(files) == 2                   # Léa's photo, the template's PDF
        assert files <= referenced_hashes(session)


def test_a_minor_s_guardians_are_told_of_the_cabinet_s_message(demo, martin, testapp,
                                                               registry):
    """Hugo is a minor: the cabinet's message on his record is announced to Léa, the
    parent who acts for him on the portal (at her address), never with its text."""
    from tests.conftest import patient_token
    patient_token(testapp, registry)      # Léa's directory account: Hugo's guardian
    outbox = registry.getUtility(IMailer).outbox
    before = len(outbox)
    martin.post(HUGO + "/@messages", {"text": "Le rendez-vous de Hugo est confirmé"},
                status=201)
    mails = outbox[before:]
    assert sorted(r for mail in mails for r in mail.recipients) == ["lea.leroy@example.org"]
    assert all("Hugo" not in mail.body and "confirmé" not in mail.body for mail in mails)


def test_a_record_hidden_by_the_gdpr_opt_out_is_hidden_from_the_whole_portal(
        demo, martin, lea, api, registry):
    """The opt-out hides Léa's record from her portal: messages, payments,
    appointments, documents answer 403 with the reason; her lists leave it out; the
    cabinet's side keeps working and sends her no new-message mail."""
    def records():
        return [item["patient"]["@id"].split("/patients/")[1]
                for item in lea.get("/@my-messages").json["items"]]
    assert records() == ["leroy"]
    api("admin").patch(f"{LEROY}/@document-sharing", {"opt_out": True})
    for path in (f"{LEROY}/@messages", f"{LEROY}/@payments", f"{LEROY}/@appointments",
                 f"{LEROY}/@patient-documents", LEROY):
        response = lea.get(path, status=403)
        assert "opposition au partage des données" in response.json["message"], path
    assert records() == []
    outbox = registry.getUtility(IMailer).outbox
    before = len(outbox)
    martin.post(LEROY + "/@messages", {"text": "Un mot du cabinet"}, status=201)
    assert martin.get(LEROY + "/@messages").json["items_total"] >= 1
    assert outbox[before:] == []
    api("admin").patch(f"{LEROY}/@document-sharing", {"opt_out": False})
    assert lea.get(f"{LEROY}/@messages").status_int == 200 and records() == ["leroy"]
