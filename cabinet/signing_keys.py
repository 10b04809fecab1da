"""Each cabinet's signing key and certificate (C4), kept in ``signing_keys``.

- Made when the cabinet is created (an IObjectAdded subscriber of cabinet.content),
  so that two first signatures of a new cabinet never race to make it. A cabinet
  created before that (or by a path that bypassed add_node) gets its key at its first
  signature: the cabinet's row is locked first (cabinet.locks), then the key is read
  again, so that of two first signatures one makes it and the other uses it.
- The private key is stored encrypted (PKCS#8, cryptography's
  ``BestAvailableEncryption``) with ``cabinet.signing_key_secret``: development.ini
  and the tests have a development value, production reads CABINET_SIGNING_KEY_SECRET,
  and start-up refuses to run without one. A key stored unencrypted (made before
  encryption) is encrypted in place at its next use. No view serves the private key.
"""
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cabinet.interfaces import ICabinet, IClock, IObjectAdded
from cabinet.locks import lock_node
from cabinet.models import SigningKey

SETTING = "cabinet.signing_key_secret"
CERTIFICATE_YEARS = 10
_ENCRYPTED = "-----BEGIN ENCRYPTED PRIVATE KEY-----"


class SigningKeyError(Exception):
    """The stored key cannot be read with the configured secret."""


def secret_of(settings):
    """The secret that encrypts the keys (bytes); ValueError when it is missing."""
    secret = (settings.get(SETTING) or "").strip()
    if not secret:
        raise ValueError(f"setting '{SETTING}' is required (production: set "
                         "CABINET_SIGNING_KEY_SECRET to a long random value)")
    return secret.encode("utf-8")


def encrypt_key(key, secret):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(secret)).decode("ascii")


def private_key(row, secret):
    """The cabinet's private key (a cryptography key object) from its row."""
    pem = row.key_pem.encode("ascii")
    password = secret if row.key_pem.lstrip().startswith(_ENCRYPTED) else None
    try:
        return serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError("the cabinet's signing key cannot be read with "
                              f"'{SETTING}' (was the secret changed?)") from exc


def private_key_der(row, secret):
    """The key as unencrypted PKCS#8 DER, in memory only (for pyHanko)."""
    return private_key(row, secret).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def new_key(cabinet, now, secret):
    """(encrypted key PEM, certificate PEM): a P-256 key and a self-signed certificate
    naming the cabinet, valid for ten years."""
    key = ec.generate_private_key(ec.SECP256R1())
    title = (cabinet.title or cabinet.name or "Cabinet")[:60]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{title} (signature)"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, title)])
    # the certificate must hold at pyHanko's signing time (the system's clock) and at
    # the cabinet's clock (IClock, moved by tests): from the earlier of both
    real = datetime.now(timezone.utc).replace(tzinfo=None)
    start = min(now, real) - timedelta(days=1)
    end = max(now, real) + timedelta(days=365 * CERTIFICATE_YEARS)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True,
                          key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start.replace(tzinfo=timezone.utc))
        .not_valid_after(end.replace(tzinfo=timezone.utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256()))
    return (encrypt_key(key, secret),
            certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"))


def _create(session, registry, cabinet):
    now = registry.getUtility(IClock).now()
    key_pem, cert_pem = new_key(cabinet, now, secret_of(registry.settings))
    row = SigningKey(cabinet_id=cabinet.id, key_pem=key_pem, certificate_pem=cert_pem,
                     created=now)
    session.add(row)
    session.flush()
    return row


def ensure_signing_key(session, registry, cabinet):
    """The cabinet's SigningKey, made if it has none. Race-free: the cabinet's row is
    locked before the key is read again, so concurrent callers make one key."""
    row = session.get(SigningKey, cabinet.id)
    if row is None:
        lock_node(session, cabinet.id)
        row = session.get(SigningKey, cabinet.id, populate_existing=True)
        if row is None:
            row = _create(session, registry, cabinet)
    if not row.key_pem.lstrip().startswith(_ENCRYPTED):
        # made before keys were encrypted: encrypt it now (same key, same certificate)
        secret = secret_of(registry.settings)
        row.key_pem = encrypt_key(private_key(row, secret), secret)
        session.flush()
    return row


def on_object_added(event):
    """IObjectAdded: a new cabinet gets its key at once."""
    if ICabinet.providedBy(event.object):
        _create(event.session, event.registry, event.object)


def includeme(config):
    secret_of(config.get_settings())        # start-up refuses to run without it
    config.add_subscriber(on_object_added, IObjectAdded)
