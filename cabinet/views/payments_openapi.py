"""The payments API in /@openapi.json (issue #9, P2; cabinet/views/payments.py,
cabinet/views/care_items.py). Care items are created, edited and deleted through
the generic content API (POST <patient>/payments with ``@type: CareItem``, PATCH
and DELETE <care item>). Amounts are strings with two decimals, in euros."""

AMOUNT = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$",
          "description": "euros, two decimals (\"45.50\")"}


def openapi_parts(_op, _json, _errors, PATH):
    amount_in = {"type": ["string", "number"],
                 "description": "euros: \"45.50\", \"45,50\" or 45.5; at most two decimals"}
    date = {"type": ["string", "null"], "format": "date"}
    paths = {
        "/@my-payments": {"get": _op(
            "The payments of the records the user is the patient or a guardian of: per "
            "record, its care items (label, date, amount due, amount paid, due date, "
            "overdue), the balance, what may be paid online now, whether an e-mail is "
            "still needed, the last online payments",
            {"200": _json("MyPayments"), **_errors(401, 403)})},
        "/{path}/@payments": {"get": _op(
            "A patient record's payments (on the record or one of its care items), "
            "as one item of /@my-payments",
            {"200": _json("RecordPayments"), **_errors(401, 403, 404)}, params=[PATH])},
        "/{path}/@pay": {"post": _op(
            "Pay online (the patient or a guardian): on a record, its balance; on a "
            "care item, that item. Any amount above zero up to what is due; an e-mail "
            "for the receipt is required (the record's, else 'email', kept with the "
            "payment only). Answers the pending payment and the provider's page to send "
            "the payer to (redirect_url); 422 with a French message otherwise",
            {"201": _json("PendingPayment"), **_errors(400, 401, 403, 404, 422)},
            body="Pay", params=[PATH])},
        "/{path}/payments": {"post": _op(
            "Record a care item for the patient (@type CareItem; staff)",
            {"201": _json("CareItem"), **_errors(400, 401, 403, 404, 409, 422)},
            body="NewCareItem", params=[PATH])},
        "/@payment-callback": {"post": _op(
            "The payment provider's callback: a JSON body {reference, status "
            "(approved | declined), amount} signed in the X-Payment-Signature header "
            "(hex HMAC-SHA256 of the body). 400 for a bad signature (nothing changes); "
            "a replay answers status 'already processed'; an approval that would pay "
            "more than is due is 'refused'",
            {"200": _json("PaymentOutcome"), **_errors(400, 404)},
            body="PaymentCallback", security=False)},
    }
    item = {"type": "object", "properties": {
        "@id": {"type": "string"}, "@type": {"const": "CareItem"},
        "id": {"type": "string"}, "title": {"type": "string"}, "date": date,
        "due_date": date, "amount_due": AMOUNT, "amount_paid": AMOUNT,
        "remaining": AMOUNT, "overdue": {"type": "boolean"}}}
    payment = {"type": "object", "properties": {
        "reference": {"type": "string"}, "amount": AMOUNT,
        "review_state": {"enum": ["pending", "approved", "declined", "refused"]},
        "created": {"type": "string"}, "processed": {"type": ["string", "null"]},
        "message": {"type": "string"}}}
    record = {"type": "object", "properties": {
        "@id": {"type": "string"}, "@type": {"const": "Patient"},
        "title": {"type": "string"}, "currency": {"const": "EUR"},
        "amount_due": AMOUNT, "amount_paid": AMOUNT, "balance": AMOUNT,
        "payable": AMOUNT, "overdue": {"type": "boolean"},
        "can_pay": {"type": "boolean"}, "email_required": {"type": "boolean"},
        "items": {"type": "array", "items": item}, "items_total": {"type": "integer"},
        "payments": {"type": "array", "items": payment}}}
    schemas = {
        "MyPayments": {"type": "object", "properties": {
            "@id": {"type": "string"}, "items": {"type": "array", "items": record},
            "items_total": {"type": "integer"}}},
        "RecordPayments": record,
        "Pay": {"type": "object", "required": ["amount"], "properties": {
            "amount": amount_in, "email": {"type": "string", "maxLength": 254}}},
        "PendingPayment": {"allOf": [payment, {"type": "object", "properties": {
            "@id": {"type": "string"}, "redirect_url": {"type": "string"}}}]},
        "NewCareItem": {"type": "object", "required": ["@type", "title", "amount_due"],
                        "properties": {
            "@type": {"const": "CareItem"}, "id": {"type": "string"},
            "title": {"type": "string", "maxLength": 500}, "care_date": date,
            "due_date": date, "amount_due": amount_in, "amount_paid": amount_in}},
        "CareItemEdit": {"type": "object", "properties": {
            "title": {"type": "string", "maxLength": 500}, "care_date": date,
            "due_date": date, "amount_due": amount_in, "amount_paid": amount_in}},
        "CareItem": {"allOf": [{"$ref": "#/components/schemas/Resource"}, {
            "type": "object", "properties": {
                "care_date": date, "due_date": date, "amount_due": AMOUNT,
                "amount_paid": AMOUNT, "remaining": AMOUNT,
                "overdue": {"type": "boolean"}, "currency": {"const": "EUR"}}}]},
        "PaymentCallback": {"type": "object", "required": ["reference", "status", "amount"],
                            "properties": {
            "reference": {"type": "string"}, "status": {"enum": ["approved", "declined"]},
            "amount": {"type": "string"}}},
        "PaymentOutcome": {"type": "object", "properties": {
            "reference": {"type": "string"},
            "status": {"enum": ["approved", "declined", "refused", "already processed"]},
            "review_state": {"type": "string"}, "message": {"type": "string"}}},
    }
    return paths, schemas
