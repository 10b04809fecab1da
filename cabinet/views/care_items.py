"""Care items, the cabinet's side (issue #9, P2): the generic content API's hooks for
``CareItem`` (POST ``<patient>/payments`` or ``<patient>`` with ``@type:
CareItem``, PATCH, DELETE), and the staff page of a record's payments
(``<patient>/payments``) with its small form to add a care item.

A care item: ``title`` (the label), ``care_date``, ``due_date``, ``amount_due``
(required, more than zero) and ``amount_paid`` (default 0, never more than
``amount_due``), amounts as strings "45.50" (or numbers). A care item that online
payments went to is never deleted (409)."""
from datetime import date

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from cabinet import errors, formats
from cabinet.content import add_node
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import IClock, IFolder
from cabinet.models import OnlinePayment
from cabinet.payments import (
    ZERO, care_items, euros_for, is_overdue, money, parse_amount, remaining)
from cabinet.workflow import record_history
from .base import node_url
from .content import ContentHooks, add_content_hooks


def check_amounts(data, current=None):
    """(values, problems) of ``amount_due`` and ``amount_paid`` in ``data``."""
    values, problems = {}, {}
    due = current.amount_due if current is not None else None
    if "amount_due" in data or current is None:
        due = parse_amount(data.get("amount_due"))
        if due is None or due <= 0:
            problems["amount_due"] = "Montant dû requis, supérieur à zéro (ex. 45.50)."
        else:
            values["amount_due"] = due
    if "amount_paid" in data:
        paid = parse_amount(data.get("amount_paid"))
        if data.get("amount_paid") in (None, ""):
            paid = ZERO
        if paid is None or paid < 0:
            problems["amount_paid"] = "Montant payé : un nombre positif ou nul."
        else:
            values["amount_paid"] = paid
    paid = values.get("amount_paid", current.amount_paid if current is not None else ZERO)
    if due is not None and "amount_due" not in problems and paid is not None \
            and "amount_paid" not in problems and paid > due:
        problems["amount_paid"] = "Le montant payé ne peut pas dépasser le montant dû."
    return values, problems


class CareItemHooks(ContentHooks):
    extra_fields = ("amount_due", "amount_paid")

    def check(self, request, context, extra, creating):
        values, problems = check_amounts(extra, None if creating else context)
        extra.clear()
        extra.update(values)
        return problems

    def created(self, request, node, values, extra):
        patient = node.__parent__.__parent__
        node.patient_id = patient.id
        node.amount_due = extra["amount_due"]
        node.amount_paid = extra.get("amount_paid", ZERO)
        if node.care_date is None:
            node.care_date = request.registry.getUtility(IClock).today()
        request.dbsession.flush()

    def edited(self, request, node, extra, changed):
        names = [k for k, v in extra.items() if getattr(node, k) != v]
        for key in names:
            setattr(node, key, extra[key])
        return names

    def to_json(self, request, node, data):
        today = request.registry.getUtility(IClock).today()
        data.update({"amount_due": money(node.amount_due),
                     "amount_paid": money(node.amount_paid),
                     "remaining": money(remaining(node)),
                     "overdue": is_overdue(node, today), "currency": "EUR"})

    def page(self, request, node):
        """The generic page, with the amounts among the fields."""
        if request.__dict__.get("_care_item_page"):
            return None
        request.__dict__["_care_item_page"] = True
        from pyramid.renderers import render_to_response
        from .content import node_page
        data = node_page(node, request)
        amount = euros_for(request)
        data["fields"].update({"amount_due": amount(node.amount_due),
                               "amount_paid": amount(node.amount_paid),
                               "remaining": amount(remaining(node))})
        return render_to_response("node.jinja2", data, request=request)

    def deleting(self, request, node):
        if request.dbsession.scalar(select(OnlinePayment.id).where(
                OnlinePayment.care_item_id == node.id,
                OnlinePayment.state == "approved").limit(1)) is not None \
                or (node.amount_paid or ZERO) > 0:
            raise errors.conflict(N_("Cette prestation a déjà reçu des paiements : elle ne "
                                  "peut pas être supprimée."))


# -- the staff page -------------------------------------------------------------------------

FORM_FIELDS = ("title", "care_date", "due_date", "amount_due", "amount_paid")


def folder_page(context, request, errors_=None, values=None, status=200):
    patient = context.__parent__
    rows = care_items(request, [patient.path])
    today = request.registry.getUtility(IClock).today()
    request.response.status_int = status
    return {"context": context, "patient": patient, "rows": rows, "today": today,
            "euros": euros_for(request), "remaining": remaining, "is_overdue": is_overdue,
            "total_due": sum((r.amount_due for r in rows), ZERO),
            "total_remaining": sum((remaining(r) for r in rows), ZERO),
            "can_add": bool(request.has_permission("payment:add", context)),
            "errors": errors_ or {}, "values": values or {},
            "url": node_url(request, context.path)}


def _date(raw, problems, field, required=False):
    raw = (raw or "").strip()
    if not raw:
        if required:
            problems[field] = "Date requise (AAAA-MM-JJ)."
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems[field] = "Date au format AAAA-MM-JJ."
        return None


def add_form(context, request):
    """POST <patient>/payments/@@add: a care item, then back to the list; the form
    again with the errors next to the fields (422)."""
    values = {k: request.POST.get(k, "").strip() for k in FORM_FIELDS}
    problems = {}
    if not values["title"] or len(values["title"]) > 500:
        problems["title"] = "Libellé requis (500 caractères au plus)."
    care_date = _date(values["care_date"], problems, "care_date")
    due_date = _date(values["due_date"], problems, "due_date")
    amounts, more = check_amounts({"amount_due": values["amount_due"],
                                   "amount_paid": values["amount_paid"]})
    problems.update(more)
    if problems:
        return folder_page(context, request, problems, values, status=422)
    node = add_node(request.dbsession, request.registry, context, "CareItem",
                    title=values["title"], owner=request.identity,
                    care_date=care_date or request.registry.getUtility(IClock).today(),
                    due_date=due_date, patient_id=context.__parent__.id,
                    amount_due=amounts["amount_due"],
                    amount_paid=amounts.get("amount_paid", ZERO))
    record_history(request, node, "create",
                   grant=request.has_permission("payment:add", context),
                   to_state=node.state)
    flash(request, _("Prestation enregistrée : ${title} (${amount}).",
                      mapping={"title": node.title,
                               "amount": formats.amount_text(request, node.amount_due)}))
    return HTTPSeeOther(location=node_url(request, context.path))


def includeme(config):
    add_content_hooks(config, "CareItem", CareItemHooks())
    config.add_view(folder_page, context=IFolder, holds_type="CareItem",
                    request_method="GET", accept="text/html", renderer="care_items.jinja2",
                    permission="folder:view")
    config.add_view(add_form, context=IFolder, holds_type="CareItem", name="add",
                    request_method="POST", renderer="care_items.jinja2",
                    permission="payment:add")
