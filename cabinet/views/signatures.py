"""Signature evidence (C4): ``GET <document>/@signature`` (JSON) and the evidence
report page ``<document>/@@signature``. Both answer 404 while the document is not
signed, and to whoever may not view it (like the download: someone else's document
answers like one that does not exist)."""
from cabinet import errors
from cabinet.i18n import N_, _, text_for
from cabinet.interfaces import IDocument, IQuestionnaireResponse
from cabinet.my_information import RELATION_TITLES
from cabinet.signatures import signature_of
from .base import isoformat, node_url
from .errors import LOGIN_REQUIRED

NOT_SIGNED = N_("Ce document n'est pas signé : il n'a pas de preuve de signature.")
NO_EVIDENCE = N_("Ce document est marqué signé, mais aucune preuve de signature n'a été "
                 "enregistrée (il n'a pas été signé par code SMS dans Cabinet).")


def _viewable_or_404(context, request):
    """As the document download: someone else's document (or questionnaire
    response, issue #5) answers like one that does not exist."""
    if request.identity is None:
        raise errors.forbidden(LOGIN_REQUIRED)
    if not request.has_permission(context.view_permission, context):
        raise errors.not_found()


def _evidence(context, request):
    _viewable_or_404(context, request)
    row = signature_of(request.dbsession, context)
    if row is None:
        raise errors.not_found(NO_EVIDENCE if context.state == "signed" else NOT_SIGNED,
                               review_state=context.state)
    return row


def _acting_for_json(request, acting):
    if not acting:
        return None
    out = dict(acting)
    for key in ("professional_path", "delegation_path", "patient_path"):
        path = out.pop(key, None)
        if path:
            out[key.replace("_path", "") + "_url"] = node_url(request, path)
    return out


def evidence_json(context, request):
    row = _evidence(context, request)
    url = node_url(request, context.path)
    return {
        "@id": f"{url}/@signature",
        "document": {"@id": url, "title": row.title, "review_state": context.state},
        # the bytes the signer saw, and the PDF signed with the cabinet's key that
        # the download gives from then on (None: the file was not signed as a PDF)
        "sha256": row.sha256, "signed_sha256": row.signed_sha256,
        "size": row.size, "content_type": row.content_type or None,
        "file_name": row.file_name or None,
        "download": f"{url}/@@download" if getattr(context, "blob_sha256", None) else None,
        "signer": {"id": row.signer_login or None, "fullname": row.signer_name or None},
        "acting_for": _acting_for_json(request, row.acting_for),
        "signed_at": isoformat(row.signed_at),
        "client_ip": row.client_ip or None,
        "user_agent": row.user_agent or None,
        "one_time_code": ({"id": row.otp_id, "sent_at": isoformat(row.otp_sent_at),
                           "sent_to": row.otp_phone or None,
                           "verified_at": isoformat(row.otp_verified_at)}
                          if row.otp_sent_at is not None else None),
        "history_id": row.history_id,
    }


#: the acting-for line of the report (msgids: the page shows it in the reader's
#: language)
FOR_HIMSELF = N_("Le signataire a signé pour lui-même.")
FOR_A_MINOR = N_("Représentant légal (${relation}) de ${patient}")
FOR_A_MINOR_NO_RELATION = N_("Représentant légal de ${patient}")
FOR_A_PROFESSIONAL = N_("Secrétaire agissant pour ${professional}")
SOME_PATIENT, SOME_PROFESSIONAL = N_("le patient"), N_("le praticien")


def acting_for_message(acting):
    """The acting-for line of the report: a msgid with its mapping (a plain text for
    an unknown kind)."""
    if not acting:
        return _(FOR_HIMSELF)
    if acting.get("type") == "guardian":
        patient = acting.get("patient") or _(SOME_PATIENT)
        relation = acting.get("relation")
        if not relation:
            return _(FOR_A_MINOR_NO_RELATION, mapping={"patient": patient})
        if relation in RELATION_TITLES:
            relation = _(RELATION_TITLES[relation])
        return _(FOR_A_MINOR, mapping={"relation": relation, "patient": patient})
    if acting.get("type") == "delegation":
        return _(FOR_A_PROFESSIONAL, mapping={
            "professional": acting.get("professional") or _(SOME_PROFESSIONAL)})
    return ", ".join(f"{k} : {v}" for k, v in acting.items() if not k.endswith("_url"))


def acting_for_text(acting, request=None):
    """The acting-for line of the report in the language of ``request`` (French
    without one)."""
    message = acting_for_message(acting)
    return text_for(request, message)


def evidence_page(context, request):
    data = evidence_json(context, request)
    return {"context": context, "data": data, "url": node_url(request, context.path),
            "acting_for_text": acting_for_text(data["acting_for"], request)}


def includeme(config):
    config.include("cabinet.signatures")
    # "site:view": every signed-in user; the view checks document:view itself and
    # answers 404 to whoever may not see the document (as @@download does)
    config.add_view(evidence_json, context=IDocument, name="@signature",
                    request_method="GET", renderer="json", permission="site:view")
    config.add_view(evidence_page, context=IDocument, name="signature",
                    request_method="GET", renderer="signature.jinja2",
                    permission="site:view")
    # a signed questionnaire response (issue #5): sha256 is that of the canonical JSON
    # of its answers and template version (cabinet.signatures.signed_content)
    config.add_view(evidence_json, context=IQuestionnaireResponse, name="@signature",
                    request_method="GET", renderer="json", permission="site:view")
    config.add_view(evidence_page, context=IQuestionnaireResponse, name="signature",
                    request_method="GET", renderer="signature.jinja2",
                    permission="site:view")


def openapi_parts(_op, _json, _errors, PATH):
    """``<document>/@signature`` for /@openapi.json (cabinet/views/openapi.py)."""
    nullable = lambda kind: {"type": [kind, "null"]}  # noqa: E731
    paths = {"/{path}/@signature": {"get": _op(
        "The evidence of a signed document (C4): SHA-256 of the exact bytes signed "
        "(signed_sha256: the PDF signed with the cabinet's key and stamped, which the "
        "download gives from then on), signer, acting-for (guardian of a minor, "
        "secretary for a professional), time, client IP and user agent, and the "
        "one-time code (when it was sent, to which masked phone, when verified). 404 "
        "while the document is not signed, or to whoever may not view it. The page "
        "<document>/@@signature shows the same report",
        {"200": _json("SignatureEvidence"), **_errors(401, 404)}, params=[PATH])}}
    schemas = {"SignatureEvidence": {"type": "object", "properties": {
        "@id": {"type": "string"}, "document": {"type": "object"},
        "sha256": nullable("string"), "signed_sha256": nullable("string"),
        "size": nullable("integer"),
        "content_type": nullable("string"), "file_name": nullable("string"),
        "download": nullable("string"),
        "signer": {"type": "object", "properties": {"id": nullable("string"),
                                                    "fullname": nullable("string")}},
        "acting_for": {"type": ["object", "null"], "properties": {
            "type": {"enum": ["guardian", "delegation"]}, "relation": {"type": "string"},
            "patient": {"type": "string"}, "professional": {"type": "string"}}},
        # like every time of the API: UTC, ISO 8601 without an offset (not RFC 3339)
        "signed_at": {"type": "string",
                      "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"},
        "client_ip": nullable("string"), "user_agent": nullable("string"),
        "one_time_code": {"type": ["object", "null"], "properties": {
            "id": nullable("integer"), "sent_at": {"type": "string"},
            "sent_to": nullable("string"), "verified_at": nullable("string")}},
        "history_id": nullable("integer")}}}
    return paths, schemas
