"""The signed PDF (C4): when a PDF document is signed, pyHanko adds a real PDF
signature made with the cabinet's own key, with a visible stamp "Signé
électroniquement par <name> le <date>". The signed PDF is a new blob; the document
references it from then on (its download), and the evidence keeps both hashes: the
bytes the signer saw (``sha256``) and the signed PDF (``signed_sha256``).

Each cabinet has an ECDSA P-256 key and a self-signed certificate, made with the
cabinet and kept in ``signing_keys``, the key encrypted (cabinet.signing_keys); no
view serves the private key. Validating a signed PDF trusts that certificate
(``cabinet_certificate``), as pyHanko's validator does in the tests.

A file pyHanko cannot read (a damaged PDF that still passed the upload's check) is
left as it is: the signature and its evidence stand, ``signed_sha256`` stays empty.
"""
import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

from sqlalchemy import select

from cabinet.interfaces import IBlobStorage
from cabinet.models import SigningKey
from cabinet.signing_keys import ensure_signing_key, private_key_der, secret_of

log = logging.getLogger(__name__)

FIELD = "Cabinet-Signature"
#: lower right of the last page (points): x1, y1, x2, y2
STAMP_BOX = (300, 36, 565, 96)
STAMP_TEXT = "Signé électroniquement par %(signer)s\nle %(date)s"


def signing_key(request, cabinet):
    """The cabinet's SigningKey (cabinet.signing_keys: made with the cabinet, or at
    first use without a race)."""
    return ensure_signing_key(request.dbsession, request.registry, cabinet)


def cabinet_certificate(session, cabinet):
    """The cabinet's certificate (asn1crypto), to trust when validating; or None."""
    from asn1crypto import pem, x509 as asn1_x509
    row = session.scalar(select(SigningKey).where(SigningKey.cabinet_id == cabinet.id))
    if row is None:
        return None
    _type, _headers, der = pem.unarmor(row.certificate_pem.encode("ascii"))
    return asn1_x509.Certificate.load(der)


def _signer(row, secret):
    from asn1crypto import keys, pem, x509 as asn1_x509
    from pyhanko.sign import signers
    _t, _h, cert_der = pem.unarmor(row.certificate_pem.encode("ascii"))
    key_der = private_key_der(row, secret)      # decrypted in memory only
    return signers.SimpleSigner(signing_cert=asn1_x509.Certificate.load(cert_der),
                                signing_key=keys.PrivateKeyInfo.load(key_der),
                                cert_registry=None)


def stamp_date(when):
    return when.strftime("%d/%m/%Y à %H:%M") + " (UTC)"


def sign_pdf(data, row, signer_name, when, reason="", field=FIELD, secret=None):
    """``data`` (PDF bytes) signed with the key of ``row`` (encrypted with
    ``secret``), with the visible stamp."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field, name=signer_name or None,
        reason=reason or f"Signé électroniquement par {signer_name}")
    style = TextStampStyle(stamp_text=STAMP_TEXT, border_width=1)
    pdf_signer = signers.PdfSigner(
        meta, signer=_signer(row, secret), stamp_style=style,
        new_field_spec=fields.SigFieldSpec(field, on_page=-1, box=STAMP_BOX))
    params = {"signer": signer_name, "date": stamp_date(when)}
    output = _outside_event_loop(
        lambda: pdf_signer.sign_pdf(writer, appearance_text_params=params))
    return output.getvalue()


def _outside_event_loop(func):
    """pyHanko's synchronous API calls ``asyncio.run``, which fails in a thread
    running an event loop (an embedding server, a test harness): run it on a thread
    of its own then."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func).result()


def signer_line(evidence):
    """``Léa Leroy``, ``Léa Leroy pour Hugo Leroy`` (a guardian), ``Anne Weber pour
    Dr Martin`` (a secretary)."""
    name = evidence.signer_name or evidence.signer_login or "?"
    acting = evidence.acting_for or {}
    for_whom = acting.get("patient") or acting.get("professional")
    return f"{name} pour {for_whom}" if for_whom else name


def sign_document(request, document, evidence, data=None):
    """Sign ``document``'s PDF for ``evidence`` (its Signature row): the signed PDF
    becomes the document's file; returns its SHA-256, or None when not signed.
    ``data``: the document's bytes when they are not committed yet (the demo)."""
    from cabinet.document_sharing import cabinet_of
    if document.content_type != "application/pdf" or not document.blob_sha256:
        return None
    cabinet = cabinet_of(document)
    storage = request.registry.getUtility(IBlobStorage)
    if cabinet is None:
        return None
    try:
        if data is None:
            with open(storage.path(document.blob_sha256), "rb") as f:
                data = f.read()
    except Exception:       # no storage configured, file missing
        log.warning("document %s: its file is missing, the PDF is not signed", document.id)
        return None
    row = signing_key(request, cabinet)
    name = signer_line(evidence)
    try:
        signed = sign_pdf(data, row, name, evidence.signed_at,
                          reason=f"Signé électroniquement par {name}",
                          field=f"{FIELD}-{evidence.id}",   # unique in the file
                          secret=secret_of(request.registry.settings))
    except Exception:       # pyHanko could not read or write this PDF
        log.warning("document %s: pyHanko could not sign its PDF", document.id,
                    exc_info=True)
        return None
    sha256 = storage.store(signed, request.tm)
    document.blob_sha256 = sha256
    document.size = len(signed)
    return sha256
