"""Documents through the web (C1, C3, C5): uploads and their rules, downloads of the
exact bytes, signed documents that never change, the patient's "Documents", the
console's documents awaiting signature, and the sharing settings' effect."""
import hashlib
from datetime import datetime
from io import BytesIO

import pytest
import webtest
from sqlalchemy import func, select
from webob import Request

from cabinet.models import Document, Node
from cabinet.sample_files import make_jpeg, make_pdf, make_png
from tests.conftest import login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
DOCS = f"{LEROY}/documents"
LIMIT = 50_000


@pytest.fixture
def settings(settings):
    settings["cabinet.upload_max_bytes"] = str(LIMIT)
    return settings


def upload(client, data, name="scan.pdf", status=201, folder=DOCS, **fields):
    fields = {"title": "Scan", "needs_signature": "false", **fields}
    return client.testapp.post(folder, params=fields, upload_files=[("file", name, data)],
                               headers=client.headers, status=status)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def count_documents(db):
    with db() as request:
        return request.dbsession.scalar(select(func.count()).select_from(Document))


# -- uploads ----------------------------------------------------------------------------

@pytest.mark.parametrize("data, name, content_type", [
    (make_pdf("Bilan"), "bilan.pdf", "application/pdf"),
    (make_png(), "photo.png", "image/png"),
    (make_jpeg(), "photo.jpeg", "image/jpeg"),
    (make_png(), "named-wrongly.pdf", "image/png"),      # the bytes decide, not the name
])
def test_upload_then_download_the_exact_bytes(demo, api, data, name, content_type):
    martin = api("dr.martin")
    response = upload(martin, data, name, title="Bilan 2026", document_type="devis",
                      needs_signature="true")
    doc = response.json
    assert response.location == doc["@id"]
    assert doc["@type"] == "Document" and doc["review_state"] == "pending"
    assert doc["title"] == "Bilan 2026" and doc["needs_signature"] is True
    assert (doc["content_type"], doc["size"], doc["sha256"]) == (content_type, len(data),
                                                                 sha(data))
    # the name keeps what was sent, with the extension of the type found in the bytes
    stored = name if name != "named-wrongly.pdf" else "named-wrongly.pdf.png"
    assert doc["document_type"] == "devis" and doc["file_name"] == stored
    download = martin.get(doc["download"].removeprefix("http://localhost"))
    assert download.content_type == content_type
    assert download.body == data and sha(download.body) == doc["sha256"]
    assert download.headers["Content-Disposition"].startswith(
        f'attachment; filename="{stored}"')
    history = martin.get(doc["@id"] + "/@history").json
    assert history[0]["action"] == "create" and history[0]["details"]["sha256"] == sha(data)


@pytest.mark.parametrize("data, name", [
    (b"GIF89a" + b"\x00" * 100, "image.gif"),
    (b"just some text, not a PDF at all", "lettre.pdf"),        # a .pdf that is not one
    (make_pdf("cut")[:-40], "truncated.pdf"),                    # no %%EOF at the end
    (b"<html><script>alert(1)</script></html>", "page.png"),
])
def test_refused_types_are_415_with_the_accepted_types(demo, api, db, data, name):
    before = count_documents(db)
    response = upload(api("dr.martin"), data, name, status=415)
    assert response.json["type"] == "UnsupportedMediaType"
    assert sorted(response.json["accepted"]) == ["application/pdf", "image/jpeg",
                                                 "image/png"]
    assert "PDF, JPEG et PNG" in response.json["message"]
    assert count_documents(db) == before


def test_oversized_file_is_413_with_the_limit(demo, api, db, app):
    before = count_documents(db)
    big = make_pdf("big") + b"%" + b"x" * LIMIT + b"\n%%EOF\n"
    response = upload(api("dr.martin"), big, "big.pdf", status=413)
    assert response.json["type"] == "PayloadTooLarge"
    assert response.json["max_bytes"] == LIMIT
    assert str(LIMIT) in response.json["message"]
    assert count_documents(db) == before
    # exactly at the limit is fine
    exact = make_pdf("exact")
    exact = exact[:-6] + b"%" * (LIMIT - len(exact)) + exact[-6:]
    assert len(exact) == LIMIT
    upload(api("dr.martin"), exact, "exact.pdf", status=201)


def test_oversized_body_is_refused_from_its_content_length(demo, api, db):
    """Far beyond the limit: refused before the body is read or parsed."""
    martin = api("dr.martin")
    huge = b"--x\r\n" + b"a" * (LIMIT + 70_000)
    response = martin.testapp.post(
        DOCS, huge, headers={**martin.headers,
                             "Content-Type": "multipart/form-data; boundary=x"},
        status=413)
    assert response.json["max_bytes"] == LIMIT


def test_oversized_body_without_content_length_is_refused_while_reading(demo, api, app):
    martin = api("dr.martin")
    huge = b"--x\r\n" + b"a" * (LIMIT + 70_000)
    request = Request.blank(DOCS, method="POST", headers={
        **martin.headers, "Content-Type": "multipart/form-data; boundary=x",
        "Host": "localhost"})
    request.environ["wsgi.input"] = BytesIO(huge)
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["wsgi.input_terminated"] = True
    response = request.get_response(app)
    assert response.status_int == 413
    assert response.json["max_bytes"] == LIMIT


def test_bad_fields_are_422(demo, api):
    martin = api("dr.martin")
    response = upload(martin, make_pdf("x"), document_type="nope", status=422)
    assert response.json["field"] == "document_type"
    response = upload(martin, make_pdf("x"), needs_signature="maybe", status=422)
    assert response.json["field"] == "needs_signature"
    response = martin.testapp.post(DOCS, params={"title": "no file"},
                                   headers=martin.headers, content_type="multipart/form-data",
                                   status=422)
    assert response.json["field"] == "file"


def test_who_may_upload(demo, api):
    upload(api("p.leroy"), make_pdf("mine"), status=403)
    upload(api("admin"), make_pdf("admin"), status=201)


def test_upload_form_on_the_documents_page(demo, testapp, db):
    login(testapp, "dr.martin")
    page = testapp.get(DOCS)
    assert "Ajouter un document" in page.text
    assert "Consentement éclairé" in page.text
    form = next(f for f in page.forms.values() if f.enctype == "multipart/form-data")
    form["file"] = webtest.Upload("compte-rendu.pdf", make_pdf("Compte rendu"),
                                  "application/pdf")
    form["title"] = "Compte rendu"
    form["document_type"] = "ordonnance"
    response = form.submit()
    assert response.status_int == 303
    page = response.follow()
    assert "« Compte rendu » ajouté." in page.text
    assert "Compte rendu" in page.text and "Ordonnance" in page.text
    # the same form with a text file: the page again, with the error
    form = next(f for f in page.forms.values() if f.enctype == "multipart/form-data")
    form["file"] = webtest.Upload("faux.pdf", b"not a pdf", "application/pdf")
    refused = form.submit(status=415)
    assert "PDF, JPEG et PNG" in refused.text


def test_upload_form_needs_the_csrf_token(demo, testapp, db):
    login(testapp, "dr.martin")
    before = count_documents(db)
    response = testapp.post(DOCS, params={"title": "x"},
                            upload_files=[("file", "x.pdf", make_pdf("x"))], status=403)
    assert "security token" in response.text or "jeton" in response.text
    assert count_documents(db) == before


# -- one document ----------------------------------------------------------------------------

def test_signed_documents_never_change(demo, api):
    martin = api("dr.martin")
    radio = f"{DOCS}/radio"
    before = martin.get(radio + "/@file").json
    assert before["review_state"] == "signed"
    response = martin.testapp.post(radio + "/@@file", upload_files=[
        ("file", "other.png", make_png(rgb=(1, 2, 3)))], headers=martin.headers,
        status=409)
    assert response.json["type"] == "Conflict"
    martin.patch(radio, {"title": "Changed"}, status=409)
    after = martin.get(radio + "/@file").json
    assert after["sha256"] == before["sha256"] and after["title"] == before["title"]
    assert sha(martin.get(radio + "/@@download").body) == before["sha256"]


def test_a_pending_document_file_can_be_replaced(demo, api):
    martin = api("dr.martin")
    new = make_pdf("Devis v2")
    response = martin.testapp.post(f"{DOCS}/devis/@@file",
                                   upload_files=[("file", "devis-v2.pdf", new)],
                                   headers=martin.headers)
    assert response.json["sha256"] == sha(new)
    assert martin.get(f"{DOCS}/devis/@@download").body == new
    # sent: no longer
    martin.testapp.post(f"{DOCS}/consentement/@@file",
                        upload_files=[("file", "c.pdf", new)], headers=martin.headers,
                        status=409)


def test_someone_elses_document_is_404(demo, api):
    leroy = api("p.leroy")
    other = f"{PARC}/patients/bernard/documents/consentement"
    for url in (other + "/@@download", f"{PARC}/patients/bernard/documents/nope/@@download"):
        response = leroy.get(url, status=404)
        assert response.json["type"] == "NotFound"
    assert leroy.get(f"{DOCS}/consentement/@@download").body.startswith(b"%PDF-")
    # a withdrawn document of her own is not hers to see either
    leroy.get(f"{DOCS}/ordonnance/@@download", status=404)


# -- the patient's "Documents" (C3) ------------------------------------------------------

def ids(items):
    return [item["id"] for item in items]


def test_patient_documents_in_three_groups(demo, api):
    martin = api("dr.martin")
    doc = upload(martin, make_pdf("Conseils"), title="Conseils post-opératoires",
                 document_type="consentement").json
    martin.post(doc["@id"] + "/@workflow/send", {})
    data = api("p.leroy").get(f"{LEROY}/@patient-documents").json
    assert ids(data["signed"]) == ["radio"]
    assert ids(data["to_sign"]) == ["consentement"]
    assert ids(data["shared"]) == ["conseils-post-operatoires"]
    for group in ("signed", "to_sign", "shared"):
        for item in data[group]:
            body = api("p.leroy").get(item["download"].removeprefix("http://localhost")).body
            assert len(body) == item["size"]


def test_patient_documents_page(demo, testapp):
    login(testapp, "p.leroy")
    page = testapp.get(f"{LEROY}/@@patient-documents")
    for title in ("Documents signés", "Documents à signer",
                  "Documents partagés sans signature", "Radiographie panoramique",
                  "Consentement éclairé"):
        assert title in page.text
    assert "Devis de traitement" not in page.text          # pending: not shared yet
    # the demo's signed document: a PDF signed through the real signing path
    assert page.click(href="radio/@@download").body.startswith(b"%PDF-")


def test_sharing_changes_show_at_once(demo, api):
    admin, leroy = api("admin"), api("p.leroy")
    search = "/@search?portal_type=Document&path=/cabinets/parc"
    assert len(leroy.get(search).json["items"]) == 2
    # the type "Radiographie" no longer shared with patients by default
    admin.patch(f"{PARC}/@document-types/radiographie", {"share_patient": False})
    assert ids(leroy.get(f"{LEROY}/@patient-documents").json["signed"]) == []
    assert leroy.get(search).json["items_total"] == 1
    # ...but this patient's record shares everything with her
    admin.patch(f"{LEROY}/@document-sharing", {"share_patient": True})
    assert ids(leroy.get(f"{LEROY}/@patient-documents").json["signed"]) == ["radio"]
    # ...except this one document
    admin.patch(f"{DOCS}/radio/@document-sharing", {"share_patient": False})
    assert admin.get(f"{DOCS}/radio/@document-sharing").json["shared_with"] == [
        "correspondent", "guardian"]
    assert ids(leroy.get(f"{LEROY}/@patient-documents").json["signed"]) == []
    admin.patch(f"{DOCS}/radio/@document-sharing", {"share_patient": None})
    assert ids(leroy.get(f"{LEROY}/@patient-documents").json["signed"]) == ["radio"]
    # the GDPR opt-out hides everything: the record is not on her portal any more
    admin.patch(f"{LEROY}/@document-sharing", {"opt_out": True})
    refused = leroy.get(f"{LEROY}/@patient-documents", status=403).json
    assert "opposition au partage des données" in refused["message"]
    assert leroy.get(search).json["items_total"] == 0
    leroy.get(f"{DOCS}/consentement/@@download", status=403)
    admin.patch(f"{LEROY}/@document-sharing", {"opt_out": False})
    assert leroy.get(search).json["items_total"] == 2
    # the cabinet switch: only signed (or to sign) documents
    martin = api("dr.martin")
    doc = upload(martin, make_pdf("Info"), title="Information").json
    martin.post(doc["@id"] + "/@workflow/send", {})
    assert ids(leroy.get(f"{LEROY}/@patient-documents").json["shared"]) == ["information"]
    admin.patch(f"{PARC}/@document-settings", {"only_signed": True})
    assert admin.get(f"{PARC}/@document-settings").json == {
        "@id": f"http://localhost{PARC}/@document-settings", "only_signed": True}
    assert leroy.get(f"{LEROY}/@patient-documents").json["shared"] == []
    assert leroy.get(search).json["items_total"] == 2


def test_state_changes_follow_the_switch(demo, api):
    """With the switch on, a document shared without signature appears only once
    signed: the sharing is recomputed on every transition."""
    admin, martin, leroy = api("admin"), api("dr.martin"), api("p.leroy")
    admin.patch(f"{PARC}/@document-settings", {"only_signed": True})
    note = upload(martin, make_pdf("Note"), title="Note").json
    to_sign = upload(martin, make_pdf("Accord"), title="Accord",
                     needs_signature="true").json
    assert admin.get(to_sign["@id"] + "/@document-sharing").json["shared_with"] == []
    for doc in (note, to_sign):
        martin.post(doc["@id"] + "/@workflow/send", {})
    # sent for signature: now shared (the transition recomputed it); the note is not
    assert admin.get(to_sign["@id"] + "/@document-sharing").json["shared_with"] == [
        "correspondent", "guardian", "patient"]
    assert leroy.get(to_sign["@id"]).json["review_state"] == "sent"
    leroy.get(note["@id"], status=403)
    assert ids(leroy.get(f"{LEROY}/@patient-documents").json["to_sign"]) == [
        "accord", "consentement"]
    # withdrawn: not shared any more
    martin.post(to_sign["@id"] + "/@workflow/withdraw", {})
    assert admin.get(to_sign["@id"] + "/@document-sharing").json["shared_with"] == []


def test_sharing_settings_need_rights(demo, api):
    leroy, martin = api("p.leroy"), api("dr.martin")
    leroy.patch(f"{LEROY}/@document-sharing", {"opt_out": True}, status=403)
    leroy.patch(f"{PARC}/@document-settings", {"only_signed": True}, status=403)
    martin.patch(f"{PARC}/@document-settings", {"only_signed": True}, status=403)
    leroy.patch(f"{DOCS}/consentement/@document-sharing", {"share_patient": False},
                status=403)
    response = api("admin").patch(f"{LEROY}/@document-sharing", {"opt_out": "yes"},
                                  status=422)
    assert response.json["field"] == "opt_out"


# -- documents awaiting signature (C5) ----------------------------------------------------

def _set_modified(db, times):
    with db() as request:
        for path, when in times.items():
            node = request.dbsession.scalar(select(Node).where(Node.path == path + "/"))
            node.modified = when


def awaiting(client, query=""):
    return client.get(f"{PARC}/@awaiting-signature{query}").json


def test_awaiting_signature_oldest_first_with_filters(demo, api, db):
    consent = {p: f"{PARC}/patients/{p}/documents/consentement"
               for p in ("leroy", "bernard", "muller", "schmit")}
    _set_modified(db, {consent["schmit"]: datetime(2026, 3, 1),
                       consent["leroy"]: datetime(2026, 3, 2),
                       consent["bernard"]: datetime(2026, 3, 3),
                       consent["muller"]: datetime(2026, 3, 4)})
    admin = api("admin")
    data = awaiting(admin)
    order = [f"http://localhost{consent[p]}" for p in ("schmit", "leroy", "bernard",
                                                        "muller")]
    assert [i["@id"] for i in data["items"]] == order
    assert data["items_total"] == 4
    assert data["items"][0]["patient"]["title"] == "Marc Schmit"
    # a new one sent by dr.weber, of another type
    weber = api("dr.weber")
    doc = upload(weber, make_pdf("Devis"), title="Devis implant", document_type="devis",
                 needs_signature="true").json
    weber.post(doc["@id"] + "/@workflow/send", {})
    # not needing a signature: not listed
    other = upload(weber, make_pdf("Info"), title="Info").json
    weber.post(other["@id"] + "/@workflow/send", {})
    data = awaiting(admin)
    assert data["items_total"] == 5 and data["items"][-1]["@id"] == doc["@id"]
    by_weber = awaiting(admin, "?practitioner=dr.weber")
    assert [i["@id"] for i in by_weber["items"]] == [doc["@id"]]
    assert by_weber["items"][0]["sent_by"]["id"] == "dr.weber"
    assert [i["@id"] for i in awaiting(admin, "?document_type=devis")["items"]] == [
        doc["@id"]]
    assert awaiting(admin, "?document_type=consentement")["items_total"] == 4
    # pages
    page = awaiting(admin, "?b_size=2")
    assert [i["@id"] for i in page["items"]] == order[:2] and page["items_total"] == 5
    assert "b_start=2" in page["batching"]["next"]
    second = awaiting(admin, "?b_size=2&b_start=4")
    assert [i["@id"] for i in second["items"]] == [doc["@id"]]
    assert admin.get(f"{PARC}/@awaiting-signature?b_size=51", status=400)


def test_awaiting_signature_respects_permissions(demo, api, testapp):
    api("p.leroy").get(f"{PARC}/@awaiting-signature", status=403)
    login(testapp, "admin")
    page = testapp.get(f"{PARC}/@@awaiting-signature")
    assert "Documents en attente de signature" in page.text
    assert page.text.count("Consentement éclairé") == 4
    assert "4 document(s)" in page.text


# -- the settings pages ------------------------------------------------------------------

def test_cabinet_document_settings_page(demo, testapp, api):
    login(testapp, "admin")
    page = testapp.get(f"{PARC}/@@document-settings")
    assert "Types de document et partage par défaut" in page.text
    form = next(f for f in page.forms.values()
                if f.action.endswith("@@document-settings"))
    assert form["radiographie.share_patient"].checked
    form["radiographie.share_patient"] = False
    form["only_signed"] = True
    form["new_id"], form["new_title"] = "photo", "Photographie"
    form["new.share_patient"] = True
    response = form.submit()
    assert response.status_int == 303
    page = response.follow()
    assert "Réglages des documents enregistrés." in page.text
    assert "Photographie" in page.text
    types = {t["id"]: t for t in api("admin").get(f"{PARC}/@document-types").json["items"]}
    assert types["radiographie"]["share_patient"] is False
    assert types["photo"] == {"id": "photo", "title": "Photographie", "share_patient": True,
                              "share_guardian": False, "share_correspondent": False}
    assert api("admin").get(f"{PARC}/@document-settings").json["only_signed"] is True
    assert ids(api("p.leroy").get(f"{LEROY}/@patient-documents").json["signed"]) == []


def test_patient_opt_out_form_on_the_documents_page(demo, testapp, api):
    login(testapp, "dr.martin")
    page = testapp.get(DOCS)
    form = next(f for f in page.forms.values()
                if f.action.endswith("@@document-sharing"))
    form["opt_out"] = True
    page = form.submit().follow()
    assert "refuse le partage de ses données" in page.text
    assert api("p.leroy").get("/@search?portal_type=Document").json["items_total"] == 0
    assert api("dr.martin").get(f"{LEROY}/@document-sharing").json["opt_out"] is True


def test_document_types_api(demo, api):
    admin = api("admin")
    created = admin.post(f"{PARC}/@document-types",
                         {"id": "bilan", "title": "Bilan", "share_correspondent": True},
                         status=201).json
    assert created == {"id": "bilan", "title": "Bilan", "share_patient": True,
                       "share_guardian": True, "share_correspondent": True}
    admin.post(f"{PARC}/@document-types", {"id": "bilan", "title": "Encore"}, status=409)
    admin.post(f"{PARC}/@document-types", {"id": "Bad Id", "title": "x"}, status=422)
    admin.patch(f"{PARC}/@document-types/nope", {"title": "x"}, status=404)
    api("dr.martin").post(f"{PARC}/@document-types", {"id": "x", "title": "x"}, status=403)


@pytest.mark.parametrize("lang,no_file,wrong_type,too_large", [
    ("fr", "Choisissez un fichier à envoyer.", "seuls les fichiers PDF, JPEG et PNG",
     "taille maximale de 48.8281 Ko (50000 octets)"),
    ("de", "Wählen Sie eine Datei zum Hochladen.", "Nur PDF-, JPEG- und PNG-Dateien",
     "maximale Größe von 48.8281 KB (50000 Bytes)"),
    ("en", "Choose a file to upload.", "only PDF, JPEG and PNG files",
     "maximum size of 48.8281 KB (50000 bytes)"),
])
def test_an_upload_s_refusal_in_the_reader_s_language_json_in_french(
        demo, testapp, api, lang, no_file, wrong_type, too_large):
    login(testapp, "dr.martin")
    headers = {"Accept-Language": lang}
    page = testapp.get(DOCS, headers=headers)
    form = next(f for f in page.forms.values() if f.enctype == "multipart/form-data")
    refused = form.submit(status=422, headers=headers)
    assert refused.html.select_one("#e-file").get_text(strip=True) == no_file
    form["file"] = webtest.Upload("faux.pdf", b"not a pdf", "application/pdf")
    assert wrong_type in form.submit(status=415, headers=headers).text
    form["file"] = webtest.Upload("big.pdf", make_pdf("x") + b"0" * LIMIT, "application/pdf")
    assert too_large in form.submit(status=413, headers=headers).text
    # JSON keeps the French text
    martin = api("dr.martin")
    martin.headers["Accept-Language"] = lang
    answer = upload(martin, make_pdf("x") + b"0" * LIMIT, status=413).json
    assert answer["message"] == ("Le fichier dépasse la taille maximale de 48.8281 Ko "
                                 "(50000 octets).")
