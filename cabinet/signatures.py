"""Signature evidence (C4): when a document is signed, the ``sign`` transition's
IAfterTransition subscriber writes one ``signatures`` row in the same transaction
(a failed code raises before the transition, so it writes nothing).

The row keeps the SHA-256 of the exact bytes signed (the document's blob then: the
blob storage is addressed by SHA-256 and a signed document's bytes can no longer be
replaced, cabinet.views.documents), the signer, for whom they acted (the history
entry's delegation, or the computed role such as a guardian's), the clock's time,
the client's address and user agent, and the one-time code that confirmed it.
Then cabinet.signed_pdf signs a PDF with the cabinet's key: the signed PDF becomes
the document's file, and the row keeps its hash too (``signed_sha256``).

The client address is ``request.remote_addr``: behind the reverse proxy, waitress
rewrites it from X-Forwarded-For only for the proxies named by ``trusted_proxy``
(production.ini). A deployment whose proxy sets another header names it in
``cabinet.client_ip_header``; that header, and no other, is then believed.
"""
from sqlalchemy import select

from cabinet.interfaces import IAfterTransition, IClock, IDocument
from cabinet.models import Delegation, Signature, User
from cabinet.sms import mask_phone

SIGN = "sign"


def client_ip(request):
    """The signer's address: the configured trusted header, else REMOTE_ADDR."""
    header = (request.registry.settings.get("cabinet.client_ip_header") or "").strip()
    if header:
        value = request.headers.get(header, "")
        # a list (X-Forwarded-For style): the last entry is the one the proxy added
        value = value.split(",")[-1].strip()
        if value:
            return value[:45]
    return (request.remote_addr or "")[:45]


def acting_for_of(request, document, history):
    """For whom the signer acted, from the history entry of the transition: a
    professional through a delegation, a minor through a guardian's computed role."""
    if history is None:
        return None
    if history.delegation_id is not None:
        delegation = request.dbsession.get(Delegation, history.delegation_id)
        professional = delegation.professional if delegation is not None else None
        user = request.dbsession.get(User, history.acting_for_id) \
            if history.acting_for_id is not None else None
        return {"type": "delegation",
                "professional": professional.title if professional is not None else "",
                "professional_path": professional.path if professional is not None else None,
                "professional_login": user.login if user is not None else None,
                "delegation_path": delegation.path if delegation is not None else None,
                "can_sign": bool(delegation is not None and delegation.can_sign)}
    acting = (history.details or {}).get("acting_for")
    if acting:
        acting = dict(acting)
        if acting.get("type") == "guardian":
            from cabinet.document_sharing import patient_of
            patient = patient_of(document)
            if patient is not None:
                acting["patient_path"] = patient.path
        return acting
    return None


def record_signature(request, document, history):
    """Write the evidence row of ``document``, just signed (the caller's transaction)."""
    session = request.dbsession
    user = request.identity
    codes = request.registry.get("one_time_codes")
    code = None
    current = getattr(codes, "current", None)
    if current is not None and user is not None:
        code = current(request, SIGN, document.id, user.id)
        if code is not None and code.used is None:
            code = None
    row = Signature(
        document_id=document.id, history_id=history.id if history is not None else None,
        sha256=document.blob_sha256, size=document.size,
        content_type=document.content_type or "", file_name=document.file_name or "",
        title=(document.title or "")[:500],
        signer_id=user.id if user is not None else None,
        signer_login=user.login if user is not None else "",
        signer_name=(user.fullname or user.login) if user is not None else "",
        acting_for_id=history.acting_for_id if history is not None else None,
        delegation_id=history.delegation_id if history is not None else None,
        acting_for=acting_for_of(request, document, history),
        signed_at=request.registry.getUtility(IClock).now(),
        client_ip=client_ip(request),
        user_agent=(request.user_agent or "")[:500],
        otp_id=code.id if code is not None else None,
        otp_sent_at=code.created if code is not None else None,
        otp_phone=mask_phone(code.phone) if code is not None else "",
        otp_verified_at=code.used if code is not None else None)
    session.add(row)
    session.flush()
    return row


def after_sign(event):
    """IAfterTransition: the evidence of a document's signature."""
    if event.transition != SIGN or not IDocument.providedBy(event.object):
        return
    if event.request is None or getattr(event.request, "dbsession", None) is None:
        return
    history = event.history
    if history is not None and history.id is None:
        event.request.dbsession.flush()
    evidence = record_signature(event.request, event.object, history)
    from cabinet.signed_pdf import sign_document
    evidence.signed_sha256 = sign_document(event.request, event.object, evidence)


def signature_of(session, document):
    """The evidence row of ``document``, or None while it is not signed."""
    return session.scalar(select(Signature).where(Signature.document_id == document.id)
                          .order_by(Signature.id.desc()).limit(1))


def includeme(config):
    config.add_subscriber(after_sign, IAfterTransition)
