"""The documents API in /@openapi.json (cabinet/views/documents.py,
cabinet/views/document_settings.py)."""
from cabinet.document_sharing import AUDIENCES
from cabinet.documents import GROUPS


def openapi_parts(_op, _json, _errors, PATH):
    """Paths and schemas of the documents API for /@openapi.json. The GET listings
    answer on any resource for the patient record / cabinet holding it."""
    share = {"type": ["boolean", "null"],
             "description": "override: true shares, false hides, null follows the rules"}
    shares = {f"share_{a}": share for a in AUDIENCES}
    q = lambda name, schema, desc="": {"name": name, "in": "query",  # noqa: E731
                                       "schema": schema, "description": desc}
    obj = {"type": "object"}
    paths = {
        "/{path}/documents": {"post": {
            **_op("Upload a document to a patient (C1), multipart: file (PDF, JPEG or "
                  "PNG, recognised from its bytes; at most cabinet.upload_max_bytes, 20 MB "
                  "by default), title, document_type, needs_signature. 201 with the "
                  "document, whose 'download' link (GET <document>/@@download) gives the "
                  "exact bytes; 413 names the limit (max_bytes), 415 the accepted types",
                  {"201": _json("DocumentFile"), **_errors(400, 401, 403, 404, 413, 415,
                                                           422)}, params=[PATH]),
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "title": {"type": "string"}, "document_type": {"type": "string"},
                    "needs_signature": {"type": "boolean"}}}}}}}},
        "/{path}/@file": {"get": _op(
            "A document with its file: type, size, SHA-256, download link",
            {"200": _json("DocumentFile"), **_errors(401, 403, 404)}, params=[PATH])},
        "/{path}/@patient-documents": {"get": _op(
            "The documents of the patient record (C3) the user may see, sent or signed, "
            "in three groups: signed, to_sign, shared (without signature)",
            {"200": _json("PatientDocuments"), **_errors(401, 403, 404)}, params=[PATH])},
        "/{path}/@awaiting-signature": {"get": _op(
            "Documents sent for signature across the patients of the cabinet (C5), "
            "oldest first, 50 a page, with the total",
            {"200": _json("AwaitingSignature"), **_errors(400, 401, 403, 404)},
            params=[PATH, q("practitioner", {"type": "string"}, "login of the sender"),
                    q("document_type", {"type": "string"}),
                    q("b_start", {"type": "integer", "minimum": 0}),
                    q("b_size", {"type": "integer", "minimum": 1, "maximum": 50})])},
        "/{path}/@document-types": {
            "get": _op("The cabinet's document types and their default sharing",
                       {"200": _json("DocumentTypes"), **_errors(401, 403, 404)},
                       params=[PATH]),
            "post": _op("Add a document type (cabinet administrators)",
                        {"201": _json("DocumentType"), **_errors(400, 401, 403, 409, 422)},
                        body="DocumentType", params=[PATH])},
        "/{path}/@document-types/{type}": {"patch": _op(
            "Change a document type's title or default sharing; the documents of that "
            "type are re-shared at once",
            {"200": _json("DocumentType"), **_errors(400, 401, 403, 404, 422)},
            body="DocumentType",
            params=[PATH, {"name": "type", "in": "path", "required": True,
                           "schema": {"type": "string"}}])},
        "/{path}/@document-settings": {
            "get": _op("The cabinet's switch 'share only signed documents'",
                       {"200": _json("DocumentSettings"), **_errors(401, 403, 404)},
                       params=[PATH]),
            "patch": _op("Set the switch (it overrides every other rule)",
                         {"200": _json("DocumentSettings"),
                          **_errors(400, 401, 403, 422)},
                         body="DocumentSettings", params=[PATH])},
        "/{path}/@document-sharing": {
            "get": _op("Sharing overrides of a patient record (with the GDPR opt-out) "
                       "or of a document (with whom it is shared now)",
                       {"200": _json("DocumentSharing"), **_errors(401, 403, 404)},
                       params=[PATH]),
            "patch": _op("Change the overrides (null: follow the rules) or the opt-out",
                         {"200": _json("DocumentSharing"),
                          **_errors(400, 401, 403, 409, 422)},
                         body="DocumentSharing", params=[PATH])},
    }
    item = {"type": "object", "properties": {
        "@id": {"type": "string"}, "title": {"type": "string"},
        "review_state": {"type": "string"}, "needs_signature": {"type": "boolean"},
        "document_type": {"type": ["string", "null"]},
        "content_type": {"type": ["string", "null"]}, "size": {"type": ["integer", "null"]},
        "download": {"type": ["string", "null"]}, "patient": obj}}
    schemas = {
        "DocumentFile": {"allOf": [{"$ref": "#/components/schemas/Resource"}, {
            "type": "object", "properties": {
                "document_type": {"type": ["string", "null"]},
                "content_type": {"type": ["string", "null"]},
                "size": {"type": ["integer", "null"]},
                "file_name": {"type": ["string", "null"]},
                "sha256": {"type": ["string", "null"]},
                "download": {"type": ["string", "null"]}}}]},
        "DocumentItem": item,
        "PatientDocuments": {"type": "object", "properties": {
            group: {"type": "array", "items": {"$ref": "#/components/schemas/DocumentItem"}}
            for group in GROUPS}},
        "AwaitingSignature": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/DocumentItem"}},
            "items_total": {"type": "integer"}, "batching": obj}},
        "DocumentType": {"type": "object", "properties": {
            "id": {"type": "string"}, "title": {"type": "string"},
            **{f"share_{a}": {"type": "boolean"} for a in AUDIENCES}}},
        "DocumentTypes": {"type": "object", "properties": {"items": {
            "type": "array", "items": {"$ref": "#/components/schemas/DocumentType"}}}},
        "DocumentSettings": {"type": "object", "properties": {
            "only_signed": {"type": "boolean"}}},
        "DocumentSharing": {"type": "object", "properties": {
            **shares, "opt_out": {"type": "boolean", "description": "patient records"},
            "shared_with": {"type": "array", "items": {"enum": list(AUDIENCES)},
                            "description": "documents: the audiences it is shared with"}}},
    }
    return paths, schemas
