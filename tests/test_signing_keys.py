"""Cabinets' signing keys at rest (cabinet/signing_keys.py): encrypted with
``cabinet.signing_key_secret``; start-up refuses to run without the secret
(production reads it from CABINET_SIGNING_KEY_SECRET); a key stored unencrypted
before is encrypted at its next use, keeping its certificate."""
import configparser
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from cabinet import main
from cabinet.interfaces import ISmsGateway
from cabinet.models import Node, SigningKey

HERE = Path(__file__).resolve().parent.parent
PARC = "/cabinets/parc"
CONSENT = f"{PARC}/patients/leroy/documents/consentement"


def parc_key(db):
    with db() as request:
        cabinet = request.dbsession.scalar(select(Node).where(Node.path == PARC + "/"))
        row = request.dbsession.get(SigningKey, cabinet.id)
        return row.key_pem, row.certificate_pem


def test_start_up_refuses_to_run_without_the_secret(settings, monkeypatch):
    monkeypatch.delenv("CABINET_SIGNING_KEY_SECRET", raising=False)
    without = {k: v for k, v in settings.items() if k != "cabinet.signing_key_secret"}
    with pytest.raises(ValueError, match="CABINET_SIGNING_KEY_SECRET"):
        main({}, **without)
    with pytest.raises(ValueError, match="cabinet.signing_key_secret"):
        main({}, **{**without, "cabinet.signing_key_secret": "  "})
    monkeypatch.setenv("CABINET_SIGNING_KEY_SECRET", "from-the-environment-" + "y" * 20)
    app = main({}, **without)
    assert app.registry.settings["cabinet.signing_key_secret"].startswith("from-the-env")


def test_production_ini_takes_the_secret_from_the_environment():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(HERE / "production.ini")
    assert "cabinet.signing_key_secret" not in parser["app:main"]
    assert "CABINET_SIGNING_KEY_SECRET" in (HERE / "production.ini").read_text()
    parser.read(HERE / "development.ini")
    assert parser["app:main"]["cabinet.signing_key_secret"]


def test_the_stored_key_is_encrypted_with_the_secret(demo, db, settings):
    from cabinet.signing_keys import SigningKeyError, private_key
    key_pem, _cert = parc_key(db)
    assert key_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "BEGIN PRIVATE KEY" not in key_pem
    with pytest.raises(TypeError):           # no password: unreadable
        serialization.load_pem_private_key(key_pem.encode(), password=None)
    row = SigningKey(key_pem=key_pem)
    assert private_key(row, settings["cabinet.signing_key_secret"].encode()) is not None
    with pytest.raises(SigningKeyError, match="secret"):
        private_key(row, b"another secret")


def test_an_unencrypted_key_of_before_is_encrypted_at_its_next_use(demo, db, api,
                                                                   registry, settings):
    from cabinet.signing_keys import private_key
    key_pem, cert_pem = parc_key(db)
    secret = settings["cabinet.signing_key_secret"].encode()
    plain = private_key(SigningKey(key_pem=key_pem), secret).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with db() as request:
        cabinet = request.dbsession.scalar(select(Node).where(Node.path == PARC + "/"))
        request.dbsession.get(SigningKey, cabinet.id).key_pem = plain
    leroy = api("p.leroy")
    leroy.post(f"{CONSENT}/@sign-code")
    text = registry.getUtility(ISmsGateway).outbox[-1]["text"]
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert leroy.post(f"{CONSENT}/@workflow/sign", {"code": code}).json[
        "review_state"] == "signed"
    assert leroy.get(f"{CONSENT}/@signature").json["signed_sha256"]
    new_pem, new_cert = parc_key(db)
    assert new_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert new_cert == cert_pem                  # the same key and certificate
