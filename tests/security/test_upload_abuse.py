"""Upload abuse (issue #6): an oversized file (413 naming the limit), a file whose name
says PDF but whose bytes are HTML, JavaScript or SVG (415), a PDF that runs
JavaScript or is also a web page (415), file names with folders or control
characters (stored clean, sent back in a safe Content-Disposition), and downloads
served as attachments with ``nosniff`` and the type found in the bytes."""
import pytest
from sqlalchemy import func, select

from cabinet.models import Document
from cabinet.sample_files import make_pdf, make_png

PARC = "/cabinets/parc"
DOCS = f"{PARC}/patients/leroy/documents"
LIMIT = 50_000


@pytest.fixture
def settings(settings):
    return {**settings, "cabinet.upload_max_bytes": str(LIMIT)}


def upload(client, data, name="scan.pdf", status=201):
    return client.testapp.post(DOCS, params={"title": "", "needs_signature": "false"},
                               upload_files=[("file", name, data)],
                               headers=client.headers, status=status)


def documents(db):
    with db() as request:
        return request.dbsession.scalar(select(func.count()).select_from(Document))


def with_javascript(pdf, action=b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"):
    """``pdf`` whose catalog opens with ``action``."""
    return pdf.replace(b"<< /Type /Catalog /Pages 2 0 R >>",
                       b"<< /Type /Catalog /Pages 2 0 R /OpenAction " + action + b" >>")


def test_an_oversized_upload_is_refused_with_the_limit(martin, db):
    before = documents(db)
    big = make_pdf("Gros") + b"%" + b"x" * (LIMIT + 10) + b"\n%%EOF\n"
    response = upload(martin, big, status=413)
    assert response.json["type"] == "PayloadTooLarge"
    assert response.json["max_bytes"] == LIMIT
    assert "48.8281 Ko" in response.json["message"] and str(LIMIT) in response.json["message"]
    assert documents(db) == before


@pytest.mark.parametrize("name, data", [
    ("facture.pdf", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ("facture.pdf", b"<script>fetch('/@login')</script>"),
    ("facture.pdf", b"alert(document.cookie);\n"),
    ("image.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("scan.pdf", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
    ("scan.pdf", b"%PDF-1.4\nno end of file marker"),
])
def test_a_name_that_lies_about_the_content_is_refused(martin, db, name, data):
    before = documents(db)
    response = upload(martin, data, name, status=415)
    assert response.json["type"] == "UnsupportedMediaType"
    assert "reconnus à leur contenu" in response.json["message"]
    assert documents(db) == before


@pytest.mark.parametrize("data", [
    with_javascript(make_pdf("Devis")),
    with_javascript(make_pdf("Devis"), b"<< /S /Launch /F (cmd.exe) >>"),
    with_javascript(make_pdf("Devis"), b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"),
    # a polyglot: a PDF that is an HTML page too
    make_pdf("Devis").replace(b"%PDF-1.4\n", b"%PDF-1.4\n%<html><script>alert(1)</script>\n"),
])
def test_a_pdf_with_active_content_is_refused(martin, db, data):
    before = documents(db)
    response = upload(martin, data, status=415)
    assert "contenu actif" in response.json["message"]
    assert documents(db) == before


def test_javascript_inside_a_compressed_object_stream_is_found():
    import zlib
    from cabinet.pdf_scan import active_content
    hidden = zlib.compress(b"4 0 << /S /JavaScript /JS (app.alert(1)) >>")
    pdf = (b"%PDF-1.5\n1 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode "
           b"/Length " + str(len(hidden)).encode() + b" >>\nstream\n" + hidden
           + b"\nendstream\nendobj\n%%EOF\n")
    assert active_content(pdf) == "/javascript"
    # the same words inside page content or an image are data, not actions
    assert active_content(make_pdf("/JavaScript /JS <script>")) is None


@pytest.mark.parametrize("sent, stored", [
    ("../../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\system.ini", "system.ini.pdf"),
    # the multipart parser stops at the line break / takes the last filename
    ("rapport\r\nSet-Cookie: x=1.pdf", "rapport.pdf"),
    ('devis"; filename="evil.html', "evil.html.pdf"),
    ("\x00\x1b[31m.pdf", "[31m.pdf"),
    ("...", "document.pdf"),
    ("compte rendu é.pdf", "compte rendu é.pdf"),
])
def test_file_names_are_stored_clean_and_sent_back_safely(martin, sent, stored):
    doc = upload(martin, make_pdf("Nom"), sent).json
    assert doc["file_name"] == stored
    download = martin.get(doc["@id"].removeprefix("http://localhost") + "/@@download")
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"")
    assert not any(c in disposition for c in "\r\n\x00\\/")
    assert disposition.count('"') == 2


def test_downloads_carry_nosniff_and_the_type_found_in_the_bytes(martin):
    # a PNG named .pdf: served as an image, its name saying so
    doc = upload(martin, make_png(), "photo.pdf").json
    assert doc["content_type"] == "image/png" and doc["file_name"] == "photo.pdf.png"
    download = martin.get(doc["@id"].removeprefix("http://localhost") + "/@@download")
    assert download.headers["Content-Type"].startswith("image/png")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    pdf = upload(martin, make_pdf("Vrai PDF"), "vrai.pdf").json
    download = martin.get(pdf["@id"].removeprefix("http://localhost") + "/@@download")
    assert download.headers["Content-Type"].startswith("application/pdf")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("sent, stored", [
    ("rapport\r\nSet-Cookie: x=1.pdf", "rapportSet-Cookie: x=1.pdf"),
    ('devis"; filename="evil.html', "devis filename=evil.html.pdf"),
    ("a\u2028b\u202e.pdf", "ab.pdf"),
    ("C:\\Users\\x\\..\\scan.PDF", "scan.PDF"),
])
def test_file_names_that_no_browser_sends_are_cleaned_too(sent, stored):
    """What a hand-made multipart body could carry, past the parser."""
    from cabinet.documents import clean_file_name
    assert clean_file_name(sent, "application/pdf") == stored
