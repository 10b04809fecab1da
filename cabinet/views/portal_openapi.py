"""The patient portal's API in /@openapi.json (issue #9: home, my cabinet, my
information, manage patients; issue #10 K1/K2: a cabinet's settings)."""
from cabinet.modules import MODULES


def openapi_parts(_op, _json, _errors, PATH):
    string = {"type": "string"}
    boolean = {"type": "boolean"}
    one = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "a proposal's id"}
    link = {"type": "object", "properties": {"id": string, "title": string,
                                             "url": string}}
    record = {"type": "object", "properties": {"@id": string, "title": string,
                                               "relation": string, "cabinet": string}}
    module = lambda options: {  # noqa: E731
        "type": "object", "additionalProperties": False,
        "properties": {"enabled": boolean, **{o: boolean for o in options}}}
    paths = {
        "/@portal": {"get": _op(
            "The portal's home for a patient or guardian: the current patient, the next "
            "appointment (date, time, practitioner, Carte Vitale flag), the modules the "
            "cabinet switched on, the buttons and the menu, counts. 'closed' carries "
            "the message when every practitioner of the user's records is inactive",
            {"200": _json("PortalHome"), **_errors(401, 403)})},
        "/{path}/@portal": {"get": _op(
            "The same home for one of the user's records (for clients that keep no "
            "session); 403 for a record that is not theirs",
            {"200": _json("PortalHome"), **_errors(401, 403, 404)}, params=[PATH])},
        "/@my-cabinet": {"get": _op(
            "The cabinet(s) of the user's records: name, address, phone, email, map, "
            "mailto and tel links",
            {"200": _json("MyCabinet"), **_errors(401, 403)})},
        "/@manage-patients": {"get": _op(
            "The records the user may switch between (themselves and the minors they "
            "are responsible for) and the current one",
            {"200": _json("ManagePatients"), **_errors(401, 403)})},
        "/{path}/@portal-switch": {"post": _op(
            "Make this record the current patient of the portal (kept in the session); "
            "403 when it is not one of the user's records",
            {"200": _json("PortalSwitch"), **_errors(401, 403, 404)}, params=[PATH])},
        "/@add-patient": {"post": _op(
            "Manage patients, 'add a patient' (P8), step 1: phone, last name, first "
            "name, birth date of the patient to link, as for the patient login; a "
            "code is sent by SMS to that patient's phone (the same answer whether "
            "anyone matches or not)",
            {"200": _json("LoginChallenge"), **_errors(400, 401, 403, 422, 429)},
            body="PatientIdentification")},
        "/@add-patient/verify": {"post": _op(
            "Step 2: the challenge and the code received; links the records where "
            "that person is the patient (409 when already linked)",
            {"200": _json("LinkedPatients"), **_errors(400, 401, 403, 409, 422)},
            body="LoginCode")},
        "/@my-information": {"get": _op(
            "My information (P4): the records the user manages, their values, the "
            "fields they may change and their pending proposals",
            {"200": _json("MyInformation"), **_errors(401, 403)})},
        "/{path}/@my-information": {"post": _op(
            "Propose changes to this record (name, email, phone, address; a guardian's "
            "own name and phone): stored as a proposal that the cabinet accepts or "
            "rejects; the record itself does not change. 422 for an invalid email or "
            "phone, an unknown field, or no change",
            {"201": _json("InformationProposal"), **_errors(400, 401, 403, 404, 422)},
            body="NewInformationProposal", params=[PATH])},
        "/{path}/@information-proposals": {"get": _op(
            "The changes proposed by the patient or their guardians (patient:edit)",
            {"200": _json("InformationProposals"), **_errors(401, 403, 404)},
            params=[PATH])},
        "/{path}/@information-proposals/{id}": {"post": _op(
            "Accept (all the fields, or those listed) or reject a pending proposal; "
            "accepting writes the record and an entry of its history",
            {"200": _json("InformationProposal"), **_errors(400, 401, 403, 404, 409, 422)},
            body="ProposalDecision", params=[PATH, one])},
        "/{path}/@settings": {
            "get": _op("A cabinet's settings (K1, K2): contact card, practitioners "
                       "with their active flag, module switches; the status: each "
                       "worker job's last success and error, and the mail and SMS "
                       "gateways' ('ok' false while the last error is more recent "
                       "than the last success, null when nothing was sent yet)",
                       {"200": _json("CabinetSettings"), **_errors(401, 403, 404)},
                       params=[PATH]),
            "patch": _op("Change a cabinet's settings (its administrators): checked "
                         "whole; an unknown module or option, an unknown practitioner, "
                         "a bad email or phone: 422 and nothing changed",
                         {"200": _json("CabinetSettings"),
                          **_errors(400, 401, 403, 404, 422)},
                         body="CabinetSettingsChange", params=[PATH])},
    }
    contact = {"type": "object", "properties": {"address": string, "phone": string,
                                                "email": string}}
    modules = {"type": "object", "additionalProperties": False,
               "properties": {name: module(options) for name, options in MODULES.items()}}
    proposal = {"type": "object", "properties": {
        "@id": string, "id": {"type": "integer"}, "state": {"enum": [
            "pending", "accepted", "partial", "rejected"]},
        "created": string, "decided": {"type": ["string", "null"]},
        "values": {"type": "object"}, "before": {"type": ["object", "null"]},
        "current": {"type": "object"},
        "accepted_fields": {"type": ["array", "null"], "items": string}}}
    schemas = {
        "PortalHome": {"type": "object", "properties": {
            "@id": string, "patients": {"type": "array", "items": record},
            "current": {"type": ["object", "null"]}, "closed": {"type": ["string", "null"]},
            "next_appointment": {"type": ["object", "null"], "properties": {
                "@id": string, "start": string, "end": string, "date": string,
                "time": string, "practitioner": {"type": ["string", "null"]},
                "appointment_type": {"type": ["string", "null"]},
                "carte_vitale_required": boolean}},
            "modules": {"type": "object", "additionalProperties": boolean},
            "buttons": {"type": "array", "items": link},
            "menu": {"type": "array", "items": link},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}},
        "MyCabinet": {"type": "object", "properties": {"items": {"type": "array", "items": {
            "type": "object", "properties": {
                "@id": string, "title": string, "address": string, "phone": string,
                "email": string, "map_url": string,
                "mailto": {"type": ["string", "null"]},
                "tel": {"type": ["string", "null"]}}}}}},
        "ManagePatients": {"type": "object", "properties": {
            "current": {"type": ["object", "null"]},
            "items": {"type": "array", "items": record}}},
        "LinkedPatients": {"type": "object", "properties": {
            "linked": {"type": "array", "items": record}}},
        "PortalSwitch": {"type": "object", "properties": {"current": string,
                                                          "title": string}},
        "MyInformation": {"type": "object", "properties": {"items": {
            "type": "array", "items": {"type": "object", "properties": {
                "@id": string, "title": string, "relation": string,
                "values": {"type": "object", "additionalProperties": string},
                "pending": {"type": "array", "items": proposal}}}}}},
        "NewInformationProposal": {"type": "object", "required": ["values"],
                                   "properties": {"values": {
                                       "type": "object",
                                       "additionalProperties": string}}},
        "InformationProposal": proposal,
        "InformationProposals": {"type": "object", "properties": {
            "items": {"type": "array", "items": proposal}}},
        "ProposalDecision": {"type": "object", "required": ["decision"], "properties": {
            "decision": {"enum": ["accept", "reject"]},
            "fields": {"type": "array", "items": string}}},
        "CabinetSettings": {"type": "object", "properties": {
            "@id": string, "title": string, "contact": contact,
            "practitioners": {"type": "array", "items": {"type": "object", "properties": {
                "id": string, "title": string, "active": boolean}}},
            "modules": modules, "can_edit": boolean,
            "status": {"type": "array", "items": {"type": "object", "properties": {
                "job": string, "last_success": {"type": ["string", "null"]},
                "last_error": {"type": ["string", "null"]},
                "error": {"type": ["string", "null"]}}}},
            "worker": {"type": "object", "properties": {
                "last_run": {"type": ["string", "null"]},
                "last_success": {"type": ["string", "null"]},
                "last_error": {"type": ["string", "null"]},
                "error": {"type": ["string", "null"]}}},
            "gateways": {"type": "array", "items": {"type": "object", "properties": {
                "gateway": {"enum": ["mail", "sms"]},
                "last_success": {"type": ["string", "null"]},
                "last_error": {"type": ["string", "null"]},
                "error": {"type": ["string", "null"]},
                "ok": {"type": ["boolean", "null"]}}}}}},
        "CabinetSettingsChange": {"type": "object", "additionalProperties": False,
                                  "properties": {
                                      "contact": contact,
                                      "practitioners": {"type": "object",
                                                        "additionalProperties": {
                                                            "type": "object",
                                                            "properties": {
                                                                "active": boolean}}},
                                      "modules": modules}},
    }
    return paths, schemas
