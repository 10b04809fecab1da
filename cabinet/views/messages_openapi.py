"""Patient messaging (P3) and reply templates (K3) in /@openapi.json
(cabinet/views/messages.py, message_console.py, message_templates.py)."""
from cabinet.messages import MAX_TEXT, MAX_TITLE

FILE_TYPES = ["application/pdf", "image/jpeg", "image/png"]


def openapi_parts(_op, _json, _errors, PATH):
    q = lambda name, schema, desc="": {"name": name, "in": "query",  # noqa: E731
                                       "schema": schema, "description": desc}
    message_id = {"name": "message", "in": "path", "required": True,
                  "schema": {"type": "string"}, "description": "a message's id"}
    template_id = {"name": "template", "in": "path", "required": True,
                   "schema": {"type": "string"}, "description": "a template's id"}
    batch = [q("b_start", {"type": "integer", "minimum": 0}),
             q("b_size", {"type": "integer", "minimum": 1, "maximum": 50})]
    file_answer = {"description": "The file, as an attachment (nosniff)",
                   "content": {t: {"schema": {"type": "string", "format": "binary"}}
                               for t in FILE_TYPES}}
    refusals = (400, 401, 403, 404, 413, 422)

    def body(json_schema, multipart):
        return {"required": True, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{json_schema}"}},
            "multipart/form-data": {"schema": multipart}}}

    new_message = {"type": "object", "properties": {
        "text": {"type": "string"}, "template": {"type": "string"},
        "file": {"type": "string", "format": "binary"}}}
    template_form = {"type": "object", "properties": {
        "title": {"type": "string"}, "text": {"type": "string"},
        "remove_file": {"type": "boolean"},
        "file": {"type": "string", "format": "binary"}}}
    paths = {
        "/{path}/@messages": {
            "get": _op("The conversation of the patient record (or of the record "
                       "holding the resource) with its cabinet, newest first: the "
                       "patient, guardians of a minor and the cabinet's staff. 'side' is "
                       "the side the user writes as; 'unread' what that side has not "
                       "read. On a cabinet: the console list of conversations "
                       "(ConversationList; filter=unread|all, staff)",
                       {"200": _json("Conversation"), **_errors(400, 401, 403, 404)},
                       params=[PATH, q("filter", {"type": "string",
                                                  "enum": ["unread", "all"]},
                                       "on a cabinet: only conversations with unread "
                                       "patient messages (default) or all"), *batch]),
            "post": {**_op(
                f"Write a message as one's side (text at most {MAX_TEXT} characters, "
                "and/or one file: JPEG, PNG or PDF recognised from its bytes, at most "
                "cabinet.upload_max_bytes; 413 names the limit, 422 an empty or too long "
                "message or a refused file). Multipart for a file. 'template' (the "
                "cabinet's side): a reply template's id, whose text (when none is "
                "given) and file the message takes",
                {"201": _json("PatientMessage", "Created"), **_errors(*refusals)},
                params=[PATH]), "requestBody": body("NewMessage", new_message)}},
        "/{path}/@messages/read": {"post": _op(
            "The other side's messages of the conversation are read by the user's side",
            {"200": _json("MarkedRead"), **_errors(400, 401, 403, 404, 413)},
            params=[PATH])},
        "/{path}/@messages/{message}": {"get": _op(
            "One message of the conversation (another record's message: 404)",
            {"200": _json("PatientMessage"), **_errors(401, 403, 404)},
            params=[PATH, message_id])},
        "/{path}/@messages/{message}/attachment": {"get": _op(
            "A message's file, for whoever sees the conversation",
            {"200": file_answer, **_errors(401, 403, 404)}, params=[PATH, message_id])},
        "/{path}/@messages/{message}/file": {"post": _op(
            "Staff: file a patient's attachment into the record's documents (a new "
            "Document with the chosen document type; 409 if filed already)",
            {"201": _json("FiledAttachment", "Created"),
             **_errors(400, 401, 403, 404, 409, 413, 422)},
            body="FileAttachment", params=[PATH, message_id])},
        "/@my-messages": {"get": _op(
            "The records the user manages as patient or guardian, each with its "
            "conversation's unread count and last message",
            {"200": _json("MyMessages"), **_errors(401)})},
        "/{path}/@message-templates": {
            "get": _op("The cabinet's reply templates (staff)",
                       {"200": _json("MessageTemplates"), **_errors(401, 403, 404)},
                       params=[PATH]),
            "post": {**_op(f"Add a reply template (title at most {MAX_TITLE} characters, "
                           f"text at most {MAX_TEXT}, an optional file: multipart)",
                           {"201": _json("MessageTemplate", "Created"),
                            **_errors(*refusals)}, params=[PATH]),
                     "requestBody": body("MessageTemplateEdit", template_form)}},
        "/{path}/@message-templates/{template}": {
            "get": _op("A reply template", {"200": _json("MessageTemplate"),
                                            **_errors(401, 403, 404)},
                       params=[PATH, template_id]),
            "patch": _op("Change a template's title or text, or remove its file",
                         {"200": _json("MessageTemplate"), **_errors(*refusals)},
                         body="MessageTemplateEdit", params=[PATH, template_id]),
            "post": {**_op("Change a template, with a new file (multipart)",
                           {"200": _json("MessageTemplate"), **_errors(*refusals)},
                           params=[PATH, template_id]),
                     "requestBody": body("MessageTemplateEdit", template_form)},
            "delete": _op("Delete a template (messages that used it keep their file)",
                          {"204": {"description": "Deleted"},
                           **_errors(401, 403, 404)}, params=[PATH, template_id])},
        "/{path}/@message-templates/{template}/attachment": {"get": _op(
            "A template's file", {"200": file_answer, **_errors(401, 403, 404)},
            params=[PATH, template_id])},
    }
    attachment = {"type": ["object", "null"], "properties": {
        "file_name": {"type": "string"}, "content_type": {"enum": FILE_TYPES},
        "size": {"type": "integer"}, "download": {"type": "string"}}}
    message = {"type": "object", "required": ["@id", "id", "side", "text"], "properties": {
        "@id": {"type": "string"}, "@type": {"type": "string"}, "id": {"type": "integer"},
        "side": {"enum": ["patient", "cabinet"]}, "text": {"type": "string"},
        "author": {"type": ["string", "null"]},
        "acting_for": {"type": ["string", "null"]},
        "created": {"type": "string"}, "read": {"type": "boolean"},
        "read_at": {"type": ["string", "null"]}, "attachment": attachment,
        "document": {"type": ["string", "null"],
                     "description": "staff: the document the file was filed into"}}}
    ref = {"$ref": "#/components/schemas/PatientMessage"}
    patient = {"type": "object", "properties": {"@id": {"type": "string"},
                                                "title": {"type": "string"}}}
    schemas = {
        "PatientMessage": message,
        "NewMessage": {"type": "object", "properties": {
            "text": {"type": "string", "maxLength": MAX_TEXT},
            "template": {"type": ["string", "integer"]}}},
        "Conversation": {"type": "object", "properties": {
            "@id": {"type": "string"}, "patient": patient, "cabinet": patient,
            "side": {"type": ["string", "null"]}, "unread": {"type": "integer"},
            "filter": {"type": "string"},
            "items": {"type": "array", "items": {"type": "object"}},
            "items_total": {"type": "integer"}, "batching": {"type": "object"}}},
        "MarkedRead": {"type": "object", "properties": {
            "marked_read": {"type": "integer"}, "unread": {"type": "integer"}}},
        "FileAttachment": {"type": "object", "properties": {
            "document_type": {"type": "string"}, "title": {"type": "string"}}},
        "FiledAttachment": {"type": "object", "properties": {
            "document": {"type": "object"}, "message": ref}},
        "MyMessages": {"type": "object", "properties": {
            "unread": {"type": "integer"}, "items": {"type": "array", "items": {
                "type": "object", "properties": {
                    "@id": {"type": "string"}, "patient": patient,
                    "unread": {"type": "integer"},
                    "last_message": {"anyOf": [ref, {"type": "null"}]}}}}}},
        "MessageTemplate": {"type": "object", "properties": {
            "@id": {"type": "string"}, "id": {"type": "integer"},
            "title": {"type": "string"}, "text": {"type": "string"},
            "attachment": attachment}},
        "MessageTemplateEdit": {"type": "object", "properties": {
            "title": {"type": "string", "maxLength": MAX_TITLE},
            "text": {"type": "string", "maxLength": MAX_TEXT},
            "remove_file": {"type": "boolean"}}},
        "MessageTemplates": {"type": "object", "properties": {"items": {
            "type": "array", "items": {"$ref": "#/components/schemas/MessageTemplate"}}}},
    }
    return paths, schemas
