"""Patient payments (issue #9, P2): the care items of a record, what is due, paying
online through the provider (cabinet.payment_provider), and the provider's signed
callback.

Amounts are ``Decimal`` with two places (euros), in JSON as strings ("45.00"),
never floats. What a payer may pay is what is still due (``payable``); more, zero,
less or not a number is refused (422, in French). A payment is created ``pending``
and the payer is sent to the provider; the provider's callback (signed, HMAC)
approves or declines it:

- a forged signature changes nothing (400); a replay answers "already processed"
  and changes nothing;
- approving locks the patient record's row (cabinet.locks: ``SELECT ... FOR
  UPDATE`` on PostgreSQL, SQLite's write lock), then reads what is due again: of two
  concurrent payments that together exceed it, the second is ``refused`` and
  recorded as such (the provider refunds it); otherwise the amount is spread over
  the care items, oldest due date first;
- every outcome writes an entry in the patient record's history; an approval also
  mails a receipt to the address given (after the commit, cabinet.mail).
"""
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, or_, select, update

from cabinet import audit, errors, formats, modules
from cabinet.appointments import my_records
from cabinet.document_sharing import cabinet_of, patient_of
from cabinet.i18n import N_, language_of, translate
from cabinet.interfaces import IClock
from cabinet.locks import lock_node
from cabinet.mail import send_mail
from cabinet.models import CareItem, HistoryEntry, Node, OnlinePayment, Patient, User
from cabinet.search import readable_filter, subtree

CENTS = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("99999999.99")
EMAIL_REQUIRED = N_("Une adresse e-mail est obligatoire pour recevoir la confirmation du "
                    "paiement : indiquez-la avant de payer.")
NOTHING_DUE = N_("Il n'y a rien à payer.")
AMOUNT_INVALID = N_("Indiquez un montant en euros, par exemple 45,50.")
AMOUNT_NOT_POSITIVE = N_("Le montant doit être supérieur à zéro.")


# -- money ---------------------------------------------------------------------------

def parse_amount(raw):
    """A Decimal with at most two places from "45.50", "45,50", 45.5 or 45, or None
    (not a number, infinite, more than two places, out of range)."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (int, float)):
        raw = str(raw)
    if not isinstance(raw, str) or len(raw) > 20:
        return None
    text = raw.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    text = text.removesuffix("€")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    # finite and in range first: quantizing 1e999 would raise
    if not value.is_finite() or abs(value) > MAX_AMOUNT \
            or value != value.quantize(CENTS, rounding=ROUND_HALF_UP):
        return None
    return value.quantize(CENTS)


def money(value):
    """"45.50": the JSON form of an amount."""
    return f"{(value or ZERO).quantize(CENTS)}"


def euros(value):
    """"45,50 €": the form people read."""
    return f"{(value or ZERO).quantize(CENTS)}".replace(".", ",") + " €"


def euros_for(request):
    """euros() in the reader's language (45,50 € in French and German, €45.50 in
    English): the pages' ``euros``."""
    return lambda value: formats.amount_text(request, value or ZERO)


# -- where the patient-facing views find the records ---------------------------------

def payment_records(request, context=None):
    """The patient records the payment pages and API act on, the one place where
    they are found: the record of ``context`` (a record or one of its care items),
    else every record whose patient or guardian the user is (P8); each as its
    cabinet's modules allow (payments on, minors' access, an open portal: K2)."""
    if context is not None:
        patient = patient_of(context)
        if patient is None:
            raise errors.not_found(N_("Cette ressource n'est pas un dossier patient."))
        modules.require(request, cabinet_of(patient), "payments", patient=patient)
        return [patient]
    paths = my_records(request)
    if not paths:
        return []
    return [patient for patient in request.dbsession.scalars(
                select(Patient).where(Patient.path.in_(paths)).order_by(Patient.path))
            if modules.allows(request, cabinet_of(patient), "payments", patient=patient)]


def online_payment(request, patient):
    """Whether the record's cabinet takes payments online (K2 option)."""
    return modules.option(cabinet_of(patient), "payments", "online_payment")


def only_due_installments(patient):
    """Whether only the installments whose due date has come may be paid (K2)."""
    cabinet = cabinet_of(patient)
    return cabinet is not None and modules.option(cabinet, "payments",
                                                  "only_due_installments")


# -- reading -------------------------------------------------------------------------

_nodes = Node.__table__
_items = CareItem.__table__


def care_items(request, patient_paths):
    """The care items the user may view under ``patient_paths`` (one query),
    by due date then date of care."""
    if not patient_paths:
        return []
    return request.dbsession.execute(
        select(_nodes.c.id, _nodes.c.name, _nodes.c.path, _nodes.c.title,
               _items.c.patient_id, _items.c.care_date, _items.c.due_date,
               _items.c.amount_due, _items.c.amount_paid)
        .select_from(_nodes.join(_items, _items.c.id == _nodes.c.id))
        .where(readable_filter(request, ("CareItem",)),
               or_(*[subtree(path) for path in patient_paths]))
        .order_by(_items.c.due_date, _items.c.care_date, _nodes.c.id).limit(500)).all()


def remaining(row):
    return max((row.amount_due or ZERO) - (row.amount_paid or ZERO), ZERO)


def is_overdue(row, today):
    return row.due_date is not None and row.due_date < today and remaining(row) > 0


def _open_items(session, patient_id, care_item_id=None):
    """The record's care items still owing, oldest due date first: read from the
    database (after the lock, what others committed)."""
    conditions = [_items.c.patient_id == patient_id,
                  _items.c.amount_due > _items.c.amount_paid]
    if care_item_id is not None:
        conditions.append(_items.c.id == care_item_id)
    return session.execute(
        select(_items.c.id, _nodes.c.title, _items.c.amount_due, _items.c.amount_paid,
               _items.c.due_date)
        .select_from(_items.join(_nodes, _nodes.c.id == _items.c.id))
        .where(*conditions)
        .order_by(_items.c.due_date.is_(None), _items.c.due_date, _items.c.care_date,
                  _items.c.id)).all()


def due_now(rows, today, only_due=False):
    """What may be paid now of ``rows`` (care items): what is still due on them, or
    with ``only_due`` (the cabinet's "only due installments", K2) on those whose due
    date has come. The one rule of it, for the page's pre-filled amount, the check of
    a new payment and its approval."""
    return sum((remaining(row) for row in rows
                if not only_due or row.due_date is None or row.due_date <= today), ZERO)


def payable(request, patient, item=None):
    """What may be paid now on ``patient``'s record (or on one of its care items)."""
    rows = _open_items(request.dbsession, patient.id, item.id if item is not None else None)
    return due_now(rows, request.registry.getUtility(IClock).today(),
                   only_due_installments(patient))


def balance(session, patient):
    due, paid = session.execute(
        select(func.coalesce(func.sum(_items.c.amount_due), 0),
               func.coalesce(func.sum(_items.c.amount_paid), 0))
        .where(_items.c.patient_id == patient.id)).one()
    return (Decimal(str(due)).quantize(CENTS), Decimal(str(paid)).quantize(CENTS))


def payments_of(session, patients, limit=5):
    """{record id: its last ``limit`` online payments, newest first} (one query)."""
    found = {patient.id: [] for patient in patients}
    if not found:
        return found
    for payment in session.scalars(select(OnlinePayment).where(
            OnlinePayment.patient_id.in_(list(found)))
            .order_by(OnlinePayment.created.desc(), OnlinePayment.id.desc())
            .limit(200)):
        if len(found[payment.patient_id]) < limit:
            found[payment.patient_id].append(payment)
    return found


# -- paying ----------------------------------------------------------------------------

def check_payment(request, patient, item, raw_amount, raw_email=None):
    """(amount, email) or 422 with the field's message in French: the amount up to
    what is due, the receipt's address (the record's, else the one given with the
    payment: required)."""
    problems = {}
    email = (patient.email or "").strip()
    if not email and isinstance(raw_email, str) and raw_email.strip():
        given = raw_email.strip()
        if len(given) > 254 or "@" not in given or " " in given \
                or given.startswith("@") or given.endswith("@"):
            problems["email"] = "Cette adresse e-mail n'est pas valide."
        else:
            email = given
    if not email and "email" not in problems:
        problems["email"] = EMAIL_REQUIRED
    amount = parse_amount(raw_amount)
    due = payable(request, patient, item)
    if amount is None:
        problems["amount"] = AMOUNT_INVALID
    elif amount <= 0:
        problems["amount"] = AMOUNT_NOT_POSITIVE
    elif due <= 0:
        problems["amount"] = NOTHING_DUE
    elif amount > due:
        problems["amount"] = (f"Le montant ne peut pas dépasser ce qui est dû : "
                              f"{euros(due)}.")
    if problems:
        message = problems.get("amount") or problems["email"]
        raise errors.unprocessable(message, errors=problems, due=money(due))
    return amount, email


def create_payment(request, patient, item, amount, email):
    """A pending payment. The receipt's address is kept on the payment, never
    written into the record (P4: the record changes only when staff accept)."""
    payment = OnlinePayment(
        reference=secrets.token_urlsafe(24), patient_id=patient.id,
        care_item_id=item.id if item is not None else None,
        user_id=request.identity.id if request.identity is not None else None,
        amount=amount, email=email, state="pending",
        created=request.registry.getUtility(IClock).now())
    request.dbsession.add(payment)
    request.dbsession.flush()
    return payment


def _history(request, patient, action, actor=None, comment="", details=None):
    request.dbsession.add(HistoryEntry(
        node_id=patient.id, when=request.registry.getUtility(IClock).now(),
        actor_id=actor.id if actor is not None else None, action=action,
        comment=comment, details=details))


# -- the provider's callback -------------------------------------------------------------

class Outcome:
    def __init__(self, status, payment, message):
        self.status, self.payment, self.message = status, payment, message


def process_callback(request, data):
    """Apply the provider's (signed, parsed) callback ``data``; an Outcome whose
    status is ``approved``, ``declined``, ``refused`` or ``already processed``.
    Raises 404 for an unknown reference, 400 when the amount is not the payment's."""
    session = request.dbsession
    payment = session.scalar(select(OnlinePayment).where(
        OnlinePayment.reference == data["reference"]))
    if payment is None:
        raise errors.not_found(N_("Paiement inconnu."))
    if parse_amount(data["amount"]) != payment.amount:
        raise errors.bad_request(N_("Le montant ne correspond pas au paiement."))
    lock_node(session, payment.patient_id)    # the record: one approval at a time
    session.refresh(payment)                  # as the lock holder left it
    if payment.state != "pending":
        return Outcome("already processed", payment, "Ce paiement est déjà traité.")
    patient = session.get(Patient, payment.patient_id)
    payer = session.get(User, payment.user_id) if payment.user_id else None
    now = request.registry.getUtility(IClock).now()
    payment.processed_at = now
    details = {"reference": payment.reference, "amount": money(payment.amount),
               "payer": payer.login if payer is not None else None}
    if data["status"] == "declined":
        payment.state, payment.message = "declined", "Paiement refusé par la banque."
        _history(request, patient, "payment_declined", actor=payer, details=details,
                 comment=f"Paiement en ligne de {euros(payment.amount)} refusé par "
                         "la banque.")
        return Outcome("declined", payment, payment.message)
    open_items = _open_items(session, patient.id, payment.care_item_id)
    due = due_now(open_items, request.registry.getUtility(IClock).today(),
                  only_due_installments(patient))
    if payment.amount > due:
        payment.state = "refused"
        payment.message = (f"Refusé : le montant dépasse ce qui reste dû "
                           f"({euros(due)}) ; il sera remboursé.")
        _history(request, patient, "payment_refused", actor=payer,
                 details={**details, "due": money(due)},
                 comment=f"Paiement en ligne de {euros(payment.amount)} refusé : il "
                         f"dépasse ce qui reste dû ({euros(due)}).")
        audit.record(request, "payment", obj=patient, outcome="refused",
                     committed_only=True, details=details)
        return Outcome("refused", payment, payment.message)
    left, spread = payment.amount, []
    for row in open_items:
        if left <= 0:
            break
        part = min(left, remaining(row))
        if part <= 0:
            continue
        # the new total computed here, exactly (the rows were read under the lock):
        # no SQL arithmetic, which SQLite would do in floating point
        session.execute(update(_items).where(_items.c.id == row.id)
                        .values(amount_paid=row.amount_paid + part))
        spread.append({"item": row.title, "amount": money(part)})
        left -= part
    payment.state, payment.message = "approved", "Paiement accepté."
    _history(request, patient, "payment", actor=payer,
             details={**details, "items": spread},
             comment=f"Paiement en ligne de {euros(payment.amount)} reçu.")
    audit.record(request, "payment", obj=patient, committed_only=True, details=details)
    session.flush()
    session.expire_all()      # care items read later show the new amounts
    _send_receipt(request, session.get(Patient, payment.patient_id), payment, spread,
                  payer)
    return Outcome("approved", payment, payment.message)


RECEIPT_SUBJECT = N_("${cabinet} : reçu de votre paiement")
RECEIPT_HELLO = N_("Bonjour,")
RECEIPT_PAID = N_("Nous avons bien reçu votre paiement en ligne de ${amount} pour ${patient}.")
RECEIPT_REFERENCE = N_("Référence : ${reference}")
RECEIPT_LEFT = N_("Reste dû : ${amount}")
YOUR_CABINET = N_("Votre cabinet")


def _send_receipt(request, patient, payment, spread, payer=None):
    """The receipt, in the payer's language (their profile's, else the request's)."""
    from cabinet import formats
    lang = language_of(request, payer)

    def tr(msgid, **mapping):
        return translate(request, msgid, lang, **mapping)

    def amount(value):
        return formats.amount_text(lang, value)
    cabinet = cabinet_of(patient)
    name = cabinet.title if cabinet is not None else tr(YOUR_CABINET)
    due, paid = balance(request.dbsession, patient)
    lines = [tr(RECEIPT_HELLO), "",
             tr(RECEIPT_PAID, amount=amount(payment.amount), patient=patient.title), "",
             *[f"  - {part['item']} : {amount(Decimal(part['amount']))}" for part in spread],
             "", tr(RECEIPT_REFERENCE, reference=payment.reference),
             tr(RECEIPT_LEFT, amount=amount(max(due - paid, ZERO))), "", name]
    send_mail(request, payment.email, tr(RECEIPT_SUBJECT, cabinet=name), "\n".join(lines))
