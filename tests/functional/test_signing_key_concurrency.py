"""A cabinet's signing key is made once (cabinet/signing_keys.py), through a real
waitress server with two signatures at the same instant.

A new cabinet gets its key when it is created. A cabinet that has none (made before
keys were made with cabinets) gets it at its first signature: two first signatures
at once both succeed (200, never a 500 from the unique key), one key is made, and
both signed PDFs validate with its certificate. Run on SQLite and PostgreSQL."""
import re

from sqlalchemy import delete, func, select

from cabinet.interfaces import ISmsGateway
from cabinet.models import Node, SigningKey
from cabinet.sample_files import make_pdf
from tests.live import login, race, request, serving

ROUNDS = 3
PARC = "/cabinets/parc"
DOCS = f"{PARC}/patients/leroy/documents"


def last_code(registry):
    text = registry.getUtility(ISmsGateway).outbox[-1]["text"]
    return re.search(r"\b(\d{6})\b", text).group(1)


def keys(engine, cabinet_path=PARC):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(SigningKey).join(
            Node, Node.id == SigningKey.cabinet_id).where(Node.path == cabinet_path + "/"))


def forget_key(engine):
    with engine.begin() as conn:
        cabinet = conn.scalar(select(Node.id).where(Node.path == PARC + "/"))
        conn.execute(delete(SigningKey).where(SigningKey.cabinet_id == cabinet))


def new_sent_document(api, title):
    martin = api("dr.martin")
    response = martin.testapp.post(DOCS, params={"title": title, "needs_signature": "true"},
                                   upload_files=[("file", "doc.pdf", make_pdf(title))],
                                   headers=martin.headers)
    path = response.json["@id"].removeprefix("http://localhost")
    martin.post(f"{path}/@workflow/send")
    return path


def test_a_new_cabinet_has_its_key_at_once(demo, db, engine):
    from cabinet.content import add_node
    with db() as req:
        cabinets = req.dbsession.scalar(select(Node).where(Node.path == "/cabinets/"))
        add_node(req.dbsession, req.registry, cabinets, "Cabinet", name="nord",
                 title="Cabinet du Nord")
    assert keys(engine, "/cabinets/nord") == 1
    with engine.connect() as conn:
        pem = conn.scalar(select(SigningKey.key_pem).join(
            Node, Node.id == SigningKey.cabinet_id).where(Node.path == "/cabinets/nord/"))
    assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_two_first_signatures_at_once_make_one_key(demo, api, registry, engine, db):
    from tests.test_signatures import load_cert, validate
    with serving(demo) as server:
        token = login(server, "p.leroy")
        for round_ in range(ROUNDS):
            forget_key(engine)
            paths = [new_sent_document(api, f"Accord {round_}-{n}") for n in range(2)]
            codes = []
            for path in paths:
                status, body = request(server, "POST", f"{path}/@sign-code", {}, token)
                assert status == 200, body
                codes.append(last_code(registry))
            results = race(server, [("POST", f"{path}/@workflow/sign", {"code": code}, token)
                                    for path, code in zip(paths, codes)])
            assert [status for status, _ in results] == [200, 200], (round_, results)
            assert [body["review_state"] for _, body in results] == ["signed", "signed"]
            assert keys(engine) == 1, round_
            certificate = load_cert(db)
            for path in paths:
                status, evidence = request(server, "GET", f"{path}/@signature", None, token)
                assert status == 200 and evidence["signed_sha256"], evidence
                pdf = api("p.leroy").get(f"{path}/@@download").body
                assert validate(pdf, certificate).valid, (round_, path)
