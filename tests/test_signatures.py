"""Signature evidence (C4): the row written with the ``sign`` transition (SHA-256 of
the bytes signed = SHA-256 of the download, signer, acting-for, time, IP, user agent,
the one-time-code event), nothing written by a failed code, the JSON and the page."""
import hashlib
import re
from io import BytesIO

import pytest
from sqlalchemy import func, select

from cabinet.interfaces import IBlobStorage, ISmsGateway
from cabinet.models import Node, Signature
from cabinet.sample_files import make_pdf
from cabinet.signatures import client_ip
from tests.conftest import Api, login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
CONSENT = f"{LEROY}/documents/consentement"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
LEA = {"phone": "+352 621 123 456", "last_name": "Leroy", "first_name": "Léa",
       "birth_date": "1990-04-12"}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def last_code(registry):
    text = registry.getUtility(ISmsGateway).outbox[-1]["text"]
    return re.search(r"\b(\d{6})\b", text).group(1)


def signatures(db, path=CONSENT):
    """The evidence rows of the document at ``path`` (the demo's signed documents
    have theirs)."""
    with db() as request:
        return request.dbsession.scalar(select(func.count()).select_from(Signature).join(
            Node, Node.id == Signature.document_id).where(Node.path == path + "/"))


def state_of(db, path):
    with db() as request:
        return request.dbsession.scalar(select(Node.state).where(Node.path == path + "/"))


def as_browser(client, address="198.51.100.7"):
    """The same client, with a user agent and a client address."""
    client.headers = {**client.headers, "User-Agent": BROWSER}
    client.testapp.extra_environ = {**client.testapp.extra_environ,
                                    "REMOTE_ADDR": address}
    return client


def test_the_patient_signs_and_the_evidence_matches_the_download(demo, api, registry,
                                                                 clock, db):
    leroy = as_browser(api("p.leroy"))
    leroy.get(f"{CONSENT}/@signature", status=404)           # not signed yet
    seen = leroy.get(f"{CONSENT}/@@download").body            # what she reads and signs
    sent = leroy.post(f"{CONSENT}/@sign-code").json
    code_sent_at = clock.now().replace(microsecond=0)
    clock.advance(minutes=2)
    signed = leroy.post(f"{CONSENT}/@workflow/sign", {"code": last_code(registry)})
    assert signed.json["review_state"] == "signed"
    evidence = leroy.get(f"{CONSENT}/@signature").json
    download = leroy.get(f"{CONSENT}/@@download")
    body = download.body
    # the evidence names the bytes she saw, and the signed PDF the download now gives
    assert evidence["sha256"] == sha(seen) and evidence["size"] == len(seen)
    assert body.startswith(seen) and len(body) > len(seen)   # an incremental update
    assert evidence["signed_sha256"] == sha(body) == download.headers["X-Content-SHA256"] \
        == leroy.get(f"{CONSENT}/@file").json["sha256"]
    assert evidence["signer"] == {"id": "p.leroy", "fullname": "Léa Leroy"}
    assert evidence["acting_for"] is None
    assert evidence["signed_at"] == clock.now().replace(microsecond=0).isoformat() + "+00:00"
    assert evidence["client_ip"] == "198.51.100.7"
    assert evidence["user_agent"] == BROWSER
    otp = evidence["one_time_code"]
    assert otp["sent_to"] == sent["sent_to"] == "+352••••••456"
    assert otp["sent_at"] == code_sent_at.isoformat() + "+00:00"
    assert otp["verified_at"] == evidence["signed_at"]
    assert isinstance(otp["id"], int) and isinstance(evidence["history_id"], int)
    # the staff see the same evidence; the signed bytes cannot be replaced
    martin = api("dr.martin")
    history = martin.get(f"{CONSENT}/@history").json
    assert [(h["transition"], h["time"], h["actor"]["id"]) for h in history] == \
        [("sign", evidence["signed_at"], "p.leroy")]
    assert martin.get(f"{CONSENT}/@signature").json == evidence
    martin.testapp.post(f"{CONSENT}/@@file", upload_files=[
        ("file", "autre.pdf", make_pdf("Autre"))], headers=martin.headers, status=409)
    assert sha(martin.get(f"{CONSENT}/@@download").body) == evidence["signed_sha256"]
    assert signatures(db) == 1


def test_a_wrong_code_writes_no_evidence_and_keeps_the_state(demo, api, registry, db):
    leroy = api("p.leroy")
    leroy.post(f"{CONSENT}/@sign-code")
    right = last_code(registry)
    wrong = "000000" if right != "000000" else "111111"
    response = leroy.post(f"{CONSENT}/@workflow/sign", {"code": wrong}, status=409)
    assert response.json["message"] == "Code incorrect : il vous reste 4 essai(s)."
    leroy.post(f"{CONSENT}/@workflow/sign", {}, status=409)           # no code at all
    assert state_of(db, CONSENT) == "sent"
    assert signatures(db) == 0
    message = leroy.get(f"{CONSENT}/@signature", status=404).json["message"]
    assert message == "Ce document n'est pas signé : il n'a pas de preuve de signature."
    # the right code still signs, once; a second try changes nothing
    leroy.post(f"{CONSENT}/@workflow/sign", {"code": right})
    leroy.post(f"{CONSENT}/@workflow/sign", {"code": right}, status=409)
    assert signatures(db) == 1


@pytest.fixture
def hugo_document(demo, db):
    """A PDF for Hugo (a minor, Léa is parent 1) to sign: state sent."""
    from cabinet.content import add_node
    with db() as request:
        docs = request.dbsession.scalar(select(Node).where(Node.path == f"{HUGO}/documents/"))
        data = make_pdf("Autorisation parentale", "Hugo Leroy")
        sha256 = request.registry.getUtility(IBlobStorage).store(data, request.tm)
        doc = add_node(request.dbsession, request.registry, docs, "Document",
                       name="autorisation", title="Autorisation parentale",
                       needs_signature=True, blob_sha256=sha256, size=len(data),
                       content_type="application/pdf", file_name="autorisation.pdf")
        doc.state = "sent"
    return f"{HUGO}/documents/autorisation", data


def test_the_guardian_signs_for_the_minor(hugo_document, testapp, registry, db):
    url, data = hugo_document
    challenge = testapp.post_json("/@patient-login", LEA).json["challenge"]
    token = testapp.post_json("/@patient-login/verify", {
        "challenge": challenge, "code": last_code(registry)}).json["token"]
    guardian = as_browser(Api(testapp, token), "203.0.113.9")
    guardian.post(f"{url}/@sign-code")
    guardian.post(f"{url}/@workflow/sign", {"code": last_code(registry)})
    evidence = guardian.get(f"{url}/@signature").json
    assert evidence["sha256"] == sha(data)
    assert evidence["signed_sha256"] == sha(guardian.get(f"{url}/@@download").body)
    assert evidence["acting_for"] == {
        "type": "guardian", "relation": "parent1", "patient": "Hugo Leroy",
        "patient_url": f"http://localhost{HUGO}"}
    assert evidence["client_ip"] == "203.0.113.9"
    assert evidence["one_time_code"]["sent_to"] == "+352••••••456"
    with db() as request:
        row = request.dbsession.scalar(select(Signature).where(
            Signature.file_name == "autorisation.pdf"))
        assert row.signer_name and row.signer_id is not None
        assert row.acting_for_id is None and row.delegation_id is None


def test_the_evidence_report_page(demo, testapp, registry):
    login(testapp, "p.leroy")
    from tests.views.test_auth import csrf_token_of
    token = csrf_token_of(testapp.get(CONSENT))
    testapp.get(f"{CONSENT}/@@signature", status=404)
    seen = testapp.get(f"{CONSENT}/@@download").body
    testapp.post(f"{CONSENT}/@@sign-code", {"csrf_token": token}, status=303)
    testapp.post(f"{CONSENT}/@@workflow", {"csrf_token": token, "transition": "sign",
                                           "code": last_code(registry)}, status=303)
    page = testapp.get(f"{CONSENT}/@@signature", headers={"User-Agent": BROWSER})
    assert page.html.h1.get_text(strip=True) == "Preuve de signature"
    fields = {dd["data-field"]: dd.get_text(" ", strip=True)
              for dd in page.html.select("dd[data-field]")}
    assert fields["sha256"] == sha(seen)
    assert fields["signed_sha256"] == sha(testapp.get(f"{CONSENT}/@@download").body)
    assert fields["signer"] == "Léa Leroy (p.leroy)"
    assert fields["acting_for"] == "Le signataire a signé pour lui-même."
    assert fields["signed_at"] == "10/03/2026 09:00"
    assert fields["client_ip"] == "127.0.0.1"
    assert fields["otp_sent_to"] == "+352••••••456"


def test_others_and_unsigned_documents_have_no_evidence(demo, api, db):
    leroy = api("p.leroy")
    other = f"{PARC}/patients/bernard/documents/consentement/@signature"
    assert leroy.get(other, status=404).json["type"] == "NotFound"
    # a document marked signed by hand, without a signature made in Cabinet
    with db() as request:
        request.dbsession.scalar(select(Node).where(
            Node.path == f"{LEROY}/documents/devis/")).state = "signed"
    devis = api("dr.martin").get(f"{LEROY}/documents/devis/@signature", status=404)
    assert "aucune preuve de signature" in devis.json["message"]


class FakeRequest:
    def __init__(self, settings, remote_addr, headers):
        self.registry = type("R", (), {"settings": settings})()
        self.remote_addr = remote_addr
        self.headers = headers


def test_the_client_address_trusts_only_the_configured_header():
    spoofed = {"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "192.0.2.1"}
    assert client_ip(FakeRequest({}, "10.0.0.1", spoofed)) == "10.0.0.1"
    configured = {"cabinet.client_ip_header": "X-Real-IP"}
    assert client_ip(FakeRequest(configured, "10.0.0.1", spoofed)) == "192.0.2.1"
    # a list: the entry the proxy appended (the last), not what the client sent
    listed = {"cabinet.client_ip_header": "X-Forwarded-For"}
    assert client_ip(FakeRequest(listed, "10.0.0.1",
                                 {"X-Forwarded-For": "6.6.6.6, 192.0.2.1"})) == "192.0.2.1"
    assert client_ip(FakeRequest(configured, "10.0.0.1", {})) == "10.0.0.1"


# -- the signed PDF (pyHanko) ------------------------------------------------------------

def stamp_lines(pdf):
    """The text lines the PDF's content streams show (PDF string escapes undone)."""
    from pyhanko.pdf_utils.generic import StreamObject
    from pyhanko.pdf_utils.reader import PdfFileReader
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    lines = []
    for ref in reader.xrefs.explicit_refs_in_revision(reader.xrefs.total_revisions - 1):
        obj = reader.get_object(ref)
        if isinstance(obj, StreamObject):
            for raw in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", obj.data):
                text = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
                lines.append(text.replace(b"\\(", b"(").replace(b"\\)", b")")
                             .decode("cp1252"))
    return lines


def validate(pdf, certificate):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    [signature] = reader.embedded_signatures
    # outside the event loop the browser tests' Playwright may leave in this thread
    from cabinet.signed_pdf import _outside_event_loop
    return _outside_event_loop(lambda: validate_pdf_signature(
        signature, ValidationContext(trust_roots=[certificate])))


def test_the_signed_pdf_passes_pyhankos_validator_with_its_stamp(demo, api, registry,
                                                                 db):
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from cabinet.signed_pdf import cabinet_certificate
    leroy = api("p.leroy")
    leroy.post(f"{CONSENT}/@sign-code")
    leroy.post(f"{CONSENT}/@workflow/sign", {"code": last_code(registry)})
    pdf = leroy.get(f"{CONSENT}/@@download").body
    with db() as request:
        cabinet = request.dbsession.scalar(select(Node).where(Node.path == PARC + "/"))
        certificate = cabinet_certificate(request.dbsession, cabinet)
    status = validate(pdf, certificate)
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert "Cabinet" in status.signing_cert.subject.human_friendly
    assert stamp_lines(pdf) == ["Signé électroniquement par Léa Leroy",
                                "le 10/03/2026 à 09:00 (UTC)"]
    # one changed byte in the signed range: no longer intact
    at = pdf.index(b"Consentement")
    tampered = pdf[:at] + b"X" + pdf[at + 1:]
    assert not validate(tampered, certificate).intact
    # the private key is in the database only: neither the evidence nor the pages
    # carry it
    evidence = leroy.get(f"{CONSENT}/@signature").text
    assert "PRIVATE KEY" not in evidence and "PRIVATE KEY" not in pdf.decode("latin-1")


def test_one_key_per_cabinet_and_a_guardians_stamp(hugo_document, testapp, registry,
                                                    db, api):
    from cabinet.models import SigningKey
    url, _data = hugo_document
    challenge = testapp.post_json("/@patient-login", LEA).json["challenge"]
    token = testapp.post_json("/@patient-login/verify", {
        "challenge": challenge, "code": last_code(registry)}).json["token"]
    guardian = Api(testapp, token)
    guardian.post(f"{url}/@sign-code")
    guardian.post(f"{url}/@workflow/sign", {"code": last_code(registry)})
    leroy = api("p.leroy")
    leroy.post(f"{CONSENT}/@sign-code")
    leroy.post(f"{CONSENT}/@workflow/sign", {"code": last_code(registry)})
    with db() as request:
        assert request.dbsession.scalar(select(func.count()).select_from(SigningKey)) == 1
    hugo_pdf = guardian.get(f"{url}/@@download").body
    consent_pdf = leroy.get(f"{CONSENT}/@@download").body
    certs = [validate(pdf, load_cert(db)).signing_cert.dump()
             for pdf in (hugo_pdf, consent_pdf)]
    assert certs[0] == certs[1]
    assert stamp_lines(hugo_pdf)[0] == \
        "Signé électroniquement par Léa Leroy pour Hugo Leroy"


def load_cert(db):
    from cabinet.signed_pdf import cabinet_certificate
    with db() as request:
        cabinet = request.dbsession.scalar(select(Node).where(Node.path == PARC + "/"))
        return cabinet_certificate(request.dbsession, cabinet)


def test_a_pdf_pyhanko_cannot_read_is_signed_without_pdf_signature(demo, api, registry,
                                                                   db):
    """It passed the upload's check (%PDF- ... %%EOF) but is no PDF: the signature and
    its evidence stand, the file stays as it was."""
    martin = api("dr.martin")
    junk = b"%PDF-1.4\nnot really a PDF\n%%EOF\n"
    martin.testapp.post(f"{LEROY}/documents", params={
        "title": "Bizarre", "needs_signature": "true"},
        upload_files=[("file", "bizarre.pdf", junk)], headers=martin.headers)
    martin.post(f"{LEROY}/documents/bizarre/@workflow/send")
    leroy = api("p.leroy")
    leroy.post(f"{LEROY}/documents/bizarre/@sign-code")
    signed = leroy.post(f"{LEROY}/documents/bizarre/@workflow/sign",
                        {"code": last_code(registry)})
    assert signed.json["review_state"] == "signed"
    evidence = leroy.get(f"{LEROY}/documents/bizarre/@signature").json
    assert evidence["sha256"] == sha(junk) and evidence["signed_sha256"] is None
    assert leroy.get(f"{LEROY}/documents/bizarre/@@download").body == junk


def test_pdfs_are_signed_inside_a_running_event_loop_too():
    """pyHanko's synchronous API runs its own event loop; a thread already running
    one (the browser tests' Playwright, an embedding server) still signs."""
    import asyncio
    from datetime import datetime
    from types import SimpleNamespace
    from cabinet.models import SigningKey
    from cabinet.signed_pdf import sign_pdf
    from cabinet.signing_keys import new_key
    key_pem, cert_pem = new_key(SimpleNamespace(title="Cabinet du Parc", name="parc"),
                                datetime(2026, 3, 10, 9, 0), b"a secret")
    row = SigningKey(key_pem=key_pem, certificate_pem=cert_pem)

    async def inside_a_loop():
        return sign_pdf(make_pdf("Devis"), row, "Léa Leroy", datetime(2026, 3, 10, 9, 0),
                        secret=b"a secret")
    # a thread of its own: this one may already run the browser tests' loop
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=1) as pool:
        pdf = pool.submit(asyncio.run, inside_a_loop()).result()
    assert stamp_lines(pdf) == ["Signé électroniquement par Léa Leroy",
                                "le 10/03/2026 à 09:00 (UTC)"]


def test_acting_for_a_professional_names_the_delegation(demo, db):
    """A secretary signing for a professional (a delegation that can sign): the
    history entry's delegation becomes the evidence's acting-for."""
    from types import SimpleNamespace
    from cabinet.models import Delegation, User
    from cabinet.signatures import acting_for_of
    with db() as request:
        delegation = request.dbsession.scalar(select(Delegation).where(
            Delegation.name == "sec-dupont"))
        martin = request.dbsession.scalar(select(User).where(User.login == "dr.martin"))
        history = SimpleNamespace(delegation_id=delegation.id, acting_for_id=martin.id,
                                  details=None)
        acting = acting_for_of(request, None, history)
    assert acting == {"type": "delegation", "professional": "Dr Paul Martin",
                      "professional_path": "/professionals/martin/",
                      "professional_login": "dr.martin",
                      "delegation_path": "/professionals/martin/delegations/sec-dupont/",
                      "can_sign": False}
    from cabinet.views.signatures import acting_for_text
    assert acting_for_text(acting) == "Secrétaire agissant pour Dr Paul Martin"
    assert acting_for_text({"type": "guardian", "relation": "parent1",
                            "patient": "Hugo Leroy"}) == \
        "Représentant légal (parent 1) de Hugo Leroy"
