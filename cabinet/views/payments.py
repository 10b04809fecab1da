"""Patient payments, the patient's and guardian's side (issue #9, P2): "Mes
paiements" (``/@@my-payments``, JSON ``/@my-payments``), a record's payments in
JSON (``<patient>/@payments``), "payer en ligne" (POST ``<patient>/@@pay`` from the
page, ``<patient>/@pay`` in JSON; also on one care item), and the provider's
signed callback (``POST /@payment-callback``).

Every record these views act on comes from cabinet.payments.payment_records (the
one place to check the cabinet's modules); the record and its care items are
reached through traversal, so their ACL decides (payment:view, payment:pay).

Amounts in JSON are strings with two decimals ("45.50", euros)."""
from pyramid.authorization import Allow, Everyone
from pyramid.httpexceptions import HTTPSeeOther, HTTPUnprocessableEntity

from cabinet import audit, errors
from cabinet.interfaces import ICareItem, IClock, INode, IPatient, ISite
from cabinet.payment_provider import BadCallback, get_provider
from cabinet.payments import (
    ZERO, care_items, check_payment, create_payment, due_now, euros_for, is_overdue, money,
    online_payment, only_due_installments, payment_records, payments_of,
    process_callback, remaining,
)
from .base import isoformat, json_body, node_url
from cabinet.i18n import N_

PAGE = "/@@my-payments"


# -- what the page and the JSON show ---------------------------------------------------

def records_data(request, records):
    """Per record: its care items (those the user may view), the balance, what may
    be paid now, whether an e-mail is still needed, the last payments."""
    rows = care_items(request, [r.path for r in records])
    today = request.registry.getUtility(IClock).today()
    last_payments = payments_of(request.dbsession, records)
    out = []
    for record in records:
        mine = [row for row in rows if row.patient_id == record.id]
        due = sum((row.amount_due for row in mine), start=ZERO)
        paid = sum((row.amount_paid for row in mine), start=ZERO)
        out.append({
            "record": record, "items": mine,
            "overdue": [row for row in mine if is_overdue(row, today)],
            "due": due, "paid": paid, "remaining": sum((remaining(r) for r in mine),
                                                       start=ZERO),
            "payable": due_now(mine, today, only_due_installments(record)),
            "can_pay": bool(request.has_permission("payment:pay", record))
                       and online_payment(request, record),
            "email_required": not (record.email or "").strip(),
            "payments": last_payments[record.id]})
    return out, today


def item_json(request, row, today):
    return {"@id": node_url(request, row.path), "@type": "CareItem", "id": row.name,
            "title": row.title, "date": isoformat(row.care_date),
            "due_date": isoformat(row.due_date), "amount_due": money(row.amount_due),
            "amount_paid": money(row.amount_paid), "remaining": money(remaining(row)),
            "overdue": is_overdue(row, today)}


def payment_json(payment):
    return {"reference": payment.reference, "amount": money(payment.amount),
            "review_state": payment.state, "created": isoformat(payment.created),
            "processed": isoformat(payment.processed_at), "message": payment.message}


def record_json(request, data, today):
    record = data["record"]
    url = node_url(request, record.path)
    return {"@id": url, "@type": "Patient", "id": record.name, "title": record.title,
            "currency": "EUR", "amount_due": money(data["due"]),
            "amount_paid": money(data["paid"]), "balance": money(data["remaining"]),
            "payable": money(data["payable"]), "overdue": bool(data["overdue"]),
            "can_pay": data["can_pay"], "email_required": data["email_required"],
            "pay": {"@id": f"{url}/@pay"},
            "items": [item_json(request, row, today) for row in data["items"]],
            "items_total": len(data["items"]),
            "payments": [payment_json(p) for p in data["payments"]]}


def my_payments_page(context, request, errors_=None, values=None, status=200):
    records, today = records_data(request, payment_records(request))
    request.response.status_int = status
    return {"records": records, "today": today, "euros": euros_for(request), "remaining": remaining,
            "is_overdue": is_overdue, "errors": errors_ or {}, "values": values or {},
            "url": node_url}


def my_payments_json(context, request):
    records, today = records_data(request, payment_records(request))
    return {"@id": request.application_url + "/@my-payments",
            "items": [record_json(request, data, today) for data in records],
            "items_total": len(records)}


def record_payments_json(context, request):
    """GET <patient>/@payments (or on one of its care items): the record's."""
    records, today = records_data(request, payment_records(request, context))
    data = record_json(request, records[0], today)
    data["@id"] = node_url(request, records[0]["record"].path) + "/@payments"
    return data


# -- paying ------------------------------------------------------------------------------

def _scope(request, context):
    """(record, care item or None) that a payment on ``context`` pays."""
    record = payment_records(request, context)[0]
    if not online_payment(request, record):
        raise errors.not_found(N_("Votre cabinet ne propose pas le paiement en ligne."),
                               module="payments")
    return record, (context if ICareItem.providedBy(context) else None)


def _start(request, record, item, amount, email):
    payment = create_payment(request, record, item, amount, email)
    url = get_provider(request.registry).start(
        request, payment, request.application_url + "/@payment-callback",
        request.application_url + PAGE)
    return payment, url


def pay_form(context, request):
    """POST <patient>/@@pay (the page's form): to the provider's page, or the page
    again with the message next to the field (422)."""
    record, item = _scope(request, context)
    values = {"amount": request.POST.get("amount", ""),
              "email": request.POST.get("email", ""), "record": record.id}
    try:
        amount, email = check_payment(request, record, item, values["amount"],
                                      values["email"])
    except HTTPUnprocessableEntity as exc:
        return my_payments_page(None, request, {record.id: exc.extra["errors"]}, values,
                                status=422)
    _payment, url = _start(request, record, item, amount, email)
    return HTTPSeeOther(location=url)


def pay_json(context, request):
    """POST <patient>/@pay {"amount": "45.50", "email"?}: a pending payment and the
    provider's page to send the payer to."""
    record, item = _scope(request, context)
    body = json_body(request)
    if not isinstance(body, dict):
        raise errors.bad_request("The body must be a JSON object.")
    amount, email = check_payment(request, record, item, body.get("amount"),
                                  body.get("email"))
    payment, url = _start(request, record, item, amount, email)
    request.response.status_int = 201
    return {**payment_json(payment), "@id": node_url(request, record.path) + "/@payments",
            "redirect_url": url}


# -- the provider's callback ----------------------------------------------------------------

class CallbackContext:
    """The context of ``/@payment-callback``: the provider calls it without a
    session; its signature (HMAC) is the credential, checked by the view."""
    __acl__ = [(Allow, Everyone, "payment:callback")]
    __parent__ = None
    __name__ = "@payment-callback"

    def __init__(self, request):
        pass


def callback(context, request):
    provider = get_provider(request.registry)
    try:
        data = provider.parse_callback(request)
    except BadCallback as exc:
        audit.record(request, "payment_callback", outcome="refused",
                     details={"reason": str(exc)})
        raise errors.bad_request(N_("Signature ou contenu de l'avis de paiement invalide : "
                                 "rien n'a été modifié."))
    outcome = process_callback(request, data)
    return {"reference": outcome.payment.reference, "status": outcome.status,
            "review_state": outcome.payment.state, "message": outcome.message}


def includeme(config):
    add = config.add_view
    add(my_payments_page, context=ISite, name="my-payments", request_method="GET",
        renderer="my_payments.jinja2", permission="site:view")
    add(my_payments_json, context=ISite, name="@my-payments", request_method="GET",
        renderer="json", permission="site:view")
    # on any resource inside a record (as <patient>/@appointments): the record's
    add(record_payments_json, context=INode, name="@payments", request_method="GET",
        renderer="json", permission="payment:view")
    for iface in (IPatient, ICareItem):
        add(pay_form, context=iface, name="pay", request_method="POST",
            renderer="my_payments.jinja2", permission="payment:pay")
        add(pay_json, context=iface, name="@pay", request_method="POST",
            renderer="json", permission="payment:pay")
    config.add_route("payment_callback", "/@payment-callback", factory=CallbackContext)
    add(callback, route_name="payment_callback", request_method="POST", renderer="json",
        permission="payment:callback", require_csrf=False)
