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

from cabinet.interfaces import IAfterTransition, IClock, IDocument, IQuestionnaireResponse
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


def signed_content(request, node):
    """(sha256, size, content_type, file_name) of what a signature of ``node`` covers:
    a document's file; for a questionnaire response (issue #5), its answers with the
    template version they answer, as canonical JSON
    (cabinet.questionnaire_responses.canonical_json)."""
    if IQuestionnaireResponse.providedBy(node):
        from cabinet.questionnaire_responses import answers_sha256
        sha256, size = answers_sha256(request.dbsession, node)
        return sha256, size, "application/json", ""
    return node.blob_sha256, node.size, node.content_type or "", node.file_name or ""


def record_signature(request, document, history, signer=None, signer_name=None):
    """Write the evidence row of ``document``, just signed (the caller's transaction).
    The signer is the request's user unless ``signer`` (a User) or ``signer_name``
    (a person without an account) is given (the demo signs outside a web request)."""
    session = request.dbsession
    sha256, size, content_type, file_name = signed_content(request, document)
    user = signer if signer is not None else request.identity
    codes = request.registry.get("one_time_codes")
    code = None
    current = getattr(codes, "current", None)
    if current is not None and user is not None:
        code = current(request, SIGN, document.id, user.id)
        if code is not None and code.used is None:
            code = None
    row = Signature(
        document_id=document.id, history_id=history.id if history is not None else None,
        sha256=sha256, size=size, content_type=content_type, file_name=file_name,
        title=(document.title or "")[:500],
        signer_id=user.id if user is not None else None,
        signer_login=user.login if user is not None else "",
        signer_name=(user.fullname or user.login) if user is not None
        else (signer_name or "")[:200],
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
    """IAfterTransition: the evidence of a document's (or a questionnaire
    response's) signature; a document's PDF is then signed with the cabinet's key."""
    if event.transition != SIGN or not (IDocument.providedBy(event.object)
                                        or IQuestionnaireResponse.providedBy(event.object)):
        return
    if event.request is None or getattr(event.request, "dbsession", None) is None:
        return
    history = event.history
    if history is not None and history.id is None:
        event.request.dbsession.flush()
    evidence = record_signature(event.request, event.object, history)
    if not IDocument.providedBy(event.object):
        return
    from cabinet.signed_pdf import sign_document
    evidence.signed_sha256 = sign_document(event.request, event.object, evidence)


def sign_outside_a_request(request, document, signer=None, signer_name=None, data=None):
    """Evidence and signed PDF of ``document``, already in state ``signed``, for a
    script (the demo): the same record_signature and signed PDF as the ``sign``
    transition, with no one-time code. ``data``: its bytes if not committed yet."""
    from cabinet.signed_pdf import sign_document
    evidence = record_signature(request, document, None, signer=signer,
                                signer_name=signer_name)
    evidence.signed_sha256 = sign_document(request, document, evidence, data=data)
    request.dbsession.flush()
    return evidence


def signature_of(session, document):
    """The evidence row of ``document``, or None while it is not signed."""
    return session.scalar(select(Signature).where(Signature.document_id == document.id)
                          .order_by(Signature.id.desc()).limit(1))


def includeme(config):
    config.include("cabinet.signing_keys")
    config.add_subscriber(after_sign, IAfterTransition)
