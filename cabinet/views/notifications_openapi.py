"""The reminders API in /@openapi.json (cabinet/views/notifications.py, issue #9 P7)."""


def openapi_parts(_op, _json, _errors, PATH):
    rule_id = {"name": "id", "in": "path", "required": True,
               "schema": {"type": "string"}, "description": "the rule's id"}
    paths = {
        "/@my-notifications": {
            "get": _op("The user's appointment reminders (patients and guardians): "
                       "on or off, the rules (the default one, 1 day before at 12:00, "
                       "when they have none), where they go",
                       {"200": _json("Notifications"), **_errors(401, 403)}),
            "post": _op("Add a reminder rule (days_before 1-60, time HH:MM in "
                        "Europe/Luxembourg, channel sms or email: 201) and/or switch "
                        "reminders on or off (reminders: 200). Bad values: 422, "
                        "nothing changed",
                        {"200": _json("Notifications"), "201": _json("Notifications"),
                         **_errors(400, 401, 403, 422)}, body="NotificationsChange")},
        "/@my-notifications/{id}": {
            "delete": _op("Remove one of the user's reminder rules",
                          {"204": {"description": "Removed"}, **_errors(401, 403, 404)},
                          params=[rule_id])},
    }
    rule = {"type": "object", "properties": {
        "id": {"type": ["integer", "null"]},
        "days_before": {"type": "integer", "minimum": 1, "maximum": 60},
        "time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "channel": {"type": "string", "enum": ["sms", "email"]},
        "default": {"type": "boolean"}}}
    schemas = {
        "Notifications": {"type": "object", "properties": {
            "@id": {"type": "string"}, "reminders": {"type": "boolean"},
            "rules": {"type": "array", "items": rule},
            "phone": {"type": ["string", "null"], "description": "masked"},
            "email": {"type": ["string", "null"]},
            "days_before": {"type": "object", "properties": {
                "minimum": {"type": "integer"}, "maximum": {"type": "integer"}}}}},
        "NotificationsChange": {"type": "object", "additionalProperties": False,
                                "properties": {
            "days_before": {"type": "integer", "minimum": 1, "maximum": 60},
            "time": {"type": "string", "description": "HH:MM, local time"},
            "channel": {"type": "string", "enum": ["sms", "email"]},
            "reminders": {"type": "boolean"}}},
    }
    return paths, schemas
