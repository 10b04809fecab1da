"""The appointments API in /@openapi.json (cabinet/views/appointments.py,
cabinet/views/appointment_settings.py). Creating, moving and cancelling go through
the generic content API (POST <patient>/appointments with ``@type: Appointment``,
PATCH <appointment>, POST <appointment>/@workflow/cancel)."""


def openapi_parts(_op, _json, _errors, PATH):
    q = lambda name, schema, desc="": {"name": name, "in": "query",  # noqa: E731
                                       "schema": schema, "description": desc}
    date = {"type": "string", "format": "date"}
    local = {"type": "string", "description": "the cabinet's local time, "
                                              "YYYY-MM-DDTHH:MM (an offset is converted)"}
    ref = {"type": ["object", "null"], "properties": {"id": {"type": "string"},
                                                      "title": {"type": "string"}}}
    one = lambda what: {"name": "id", "in": "path", "required": True,  # noqa: E731
                        "schema": {"type": "string"}, "description": what}
    paths = {
        "/{path}/appointments": {"post": _op(
            "Book an appointment for the patient (@type Appointment): appointment_type "
            "and practitioner by their ids in the cabinet, start, end (default: start + "
            "the type's duration), place. 409 when the practitioner is already booked "
            "then; the cabinet's auto-send rules send or schedule questionnaires",
            {"201": _json("Appointment"), **_errors(400, 401, 403, 404, 409, 422)},
            body="NewAppointment", params=[PATH])},
        "/{path}/@appointments": {"get": _op(
            "On a cabinet: its agenda from 'start' to 'end' (days, 31 at most; default "
            "today), in time order, filtered by practitioner and state, 50 a page with "
            "the total. On a patient record (or inside one): the patient's "
            "appointments, 'coming' (default) or 'all' in chronological order",
            {"200": _json("Appointments"), **_errors(400, 401, 403, 404)},
            params=[PATH, q("start", date), q("end", date),
                    q("practitioner", {"type": "string"}),
                    q("review_state", {"enum": ["scheduled", "cancelled", "done"]}),
                    q("when", {"enum": ["coming", "all"]}),
                    q("b_start", {"type": "integer", "minimum": 0}),
                    q("b_size", {"type": "integer", "minimum": 1, "maximum": 200})])},
        "/{path}/@appointment-types": {
            "get": _op("The cabinet's appointment types",
                       {"200": _json("AppointmentTypes"), **_errors(401, 403, 404)},
                       params=[PATH]),
            "post": _op("Add an appointment type (appointment:configure)",
                        {"201": _json("AppointmentType"),
                         **_errors(400, 401, 403, 409, 422)},
                        body="AppointmentType", params=[PATH])},
        "/{path}/@appointment-types/{id}": {
            "patch": _op("Change a type's title or duration",
                         {"200": _json("AppointmentType"),
                          **_errors(400, 401, 403, 404, 422)},
                         body="AppointmentType", params=[PATH, one("the type's id")]),
            "delete": _op("Delete a type no appointment uses (409 otherwise)",
                          {"204": {"description": "Deleted"},
                           **_errors(401, 403, 404, 409)},
                          params=[PATH, one("the type's id")])},
        "/{path}/@autosend-rules": {
            "get": _op("The cabinet's questionnaire auto-send rules (Q2)",
                       {"200": _json("AutosendRules"), **_errors(401, 403, 404)},
                       params=[PATH]),
            "post": _op("Add a rule: template (id in the cabinet), practitioner and "
                        "appointment_type (ids, or empty for any), days_before (0-365)",
                        {"201": _json("AutosendRule"),
                         **_errors(400, 401, 403, 409, 422)},
                        body="AutosendRuleBody", params=[PATH])},
        "/{path}/@autosend-rules/{id}": {
            "patch": _op("Change a rule (appointments booked later follow it)",
                         {"200": _json("AutosendRule"),
                          **_errors(400, 401, 403, 404, 409, 422)},
                         body="AutosendRuleBody", params=[PATH, one("the rule's id")]),
            "delete": _op("Delete a rule and its pending sends",
                          {"204": {"description": "Deleted"}, **_errors(401, 403, 404)},
                          params=[PATH, one("the rule's id")])},
    }
    item = {"type": "object", "properties": {
        "@id": {"type": "string"}, "title": {"type": "string"},
        "review_state": {"enum": ["scheduled", "cancelled", "done"]},
        "start": {"type": "string"}, "end": {"type": "string"},
        "place": {"type": "string"}, "cancel_reason": {"type": ["string", "null"]},
        "appointment_type": ref, "practitioner": ref,
        "patient": {"type": "object"}}}
    schemas = {
        "AppointmentEdit": {"type": "object", "description": "move an appointment "
                            "(PATCH <appointment>): what is not given stays; a new "
                            "start without an end keeps the duration", "properties": {
            "start": local, "end": local, "practitioner": {"type": "string"},
            "appointment_type": {"type": "string"},
            "place": {"type": "string", "maxLength": 500}}},
        "NewAppointment": {"type": "object", "required": [
            "@type", "appointment_type", "practitioner", "start"], "properties": {
            "@type": {"const": "Appointment"}, "appointment_type": {"type": "string"},
            "practitioner": {"type": "string"}, "start": local, "end": local,
            "place": {"type": "string", "maxLength": 500},
            "title": {"type": "string"}}},
        "Appointment": {"allOf": [{"$ref": "#/components/schemas/Resource"}, item, {
            "type": "object", "properties": {"questionnaire_sends": {
                "type": "array", "items": {"type": "object", "properties": {
                    "template": {"type": ["string", "null"]}, "due_date": date,
                    "state": {"enum": ["pending", "sent", "cancelled", "failed",
                                       "missed"]}}}}}}]},
        "AppointmentItem": item,
        "Appointments": {"type": "object", "properties": {
            "items": {"type": "array",
                      "items": {"$ref": "#/components/schemas/AppointmentItem"}},
            "items_total": {"type": "integer"}, "batching": {"type": "object"}}},
        "AppointmentType": {"type": "object", "properties": {
            "id": {"type": "string"}, "title": {"type": "string"},
            "duration": {"type": "integer", "minimum": 5, "maximum": 480},
            "carte_vitale_required": {"type": "boolean", "description":
                                      "the patient presents their Carte Vitale"}}},
        "AppointmentTypes": {"type": "object", "properties": {"items": {
            "type": "array", "items": {"$ref": "#/components/schemas/AppointmentType"}}}},
        "AutosendRuleBody": {"type": "object", "properties": {
            "template": {"type": "string"}, "practitioner": {"type": ["string", "null"]},
            "appointment_type": {"type": ["string", "null"]},
            "days_before": {"type": "integer", "minimum": 0, "maximum": 365}}},
        "AutosendRule": {"type": "object", "properties": {
            "id": {"type": "integer"}, "template": ref, "practitioner": ref,
            "appointment_type": ref, "days_before": {"type": "integer"}}},
        "AutosendRules": {"type": "object", "properties": {"items": {
            "type": "array", "items": {"$ref": "#/components/schemas/AutosendRule"}}}},
    }
    return paths, schemas
