"""The demo's signed documents are signed through the real signing path
(cabinet.signatures.sign_outside_a_request): their evidence answers, the evidence
page shows it, and the download is a PDF signed with the cabinet's key."""
import hashlib

from sqlalchemy import func, select

from cabinet.models import Signature
from tests.conftest import login

PARC = "/cabinets/parc"
RADIO = f"{PARC}/patients/leroy/documents/radio"


def test_the_demos_signed_documents_have_evidence_and_a_signed_pdf(demo, api, db,
                                                                   testapp):
    from tests.test_signatures import load_cert, stamp_lines, validate
    leroy = api("p.leroy")
    evidence = leroy.get(f"{RADIO}/@signature").json
    assert evidence["signer"] == {"id": "p.leroy", "fullname": "Léa Leroy"}
    assert evidence["signed_at"] == "2026-03-10T09:00:00+00:00"
    pdf = leroy.get(f"{RADIO}/@@download").body
    assert hashlib.sha256(pdf).hexdigest() == evidence["signed_sha256"]
    assert validate(pdf, load_cert(db)).valid
    assert stamp_lines(pdf)[0] == "Signé électroniquement par Léa Leroy"
    # every patient's signed radio: one evidence each, named after the patient
    with db() as request:
        names = sorted(request.dbsession.scalars(select(Signature.signer_name)))
    assert names == ["Hugo Bernard", "Lena Muller", "Léa Leroy", "Marc Schmit"]
    # the evidence page
    login(testapp, "dr.martin")
    page = testapp.get(f"{RADIO}/@@signature")
    assert "Léa Leroy" in page.text and evidence["signed_sha256"] in page.text


def test_loading_the_demo_again_signs_nothing_twice(demo, db):
    from cabinet.scripts.demo import load_demo
    with db() as request:
        load_demo(request)
    with db() as request:
        assert request.dbsession.scalar(select(func.count()).select_from(Signature)) == 4
