"""The development payment provider's page (cabinet.payment_provider, ``fake``):
``/@@fake-payment?reference=...`` shows the payment and two buttons, "Approuver" and
"Refuser"; the choice is sent as the provider's callback would be (a signed body,
checked by the same code as ``POST /@payment-callback``), then the payer is back
on "Mes paiements". Registered only with the fake provider, never in production.

Only the payer who created the payment sees it (404 for anyone else)."""
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from sqlalchemy import select

from cabinet import errors, formats
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import ISite
from cabinet.models import OnlinePayment, Patient
from cabinet.payment_provider import SIGNATURE_HEADER, get_provider
from cabinet.payments import euros, process_callback

DECISIONS = {"approve": "approved", "decline": "declined"}


def _payment(request, reference):
    user = request.identity
    payment = request.dbsession.scalar(select(OnlinePayment).where(
        OnlinePayment.reference == (reference or "")[:64])) if reference else None
    if payment is None or user is None or payment.user_id != user.id:
        raise errors.not_found(N_("Ce paiement n'existe pas."))
    return payment


def fake_page(context, request):
    payment = _payment(request, request.GET.get("reference"))
    patient = request.dbsession.get(Patient, payment.patient_id)
    return {"payment": payment, "patient": patient, "amount": euros(payment.amount)}


def fake_decide(context, request):
    payment = _payment(request, request.POST.get("reference"))
    status = DECISIONS.get(request.POST.get("decision"))
    if status is None:
        raise errors.bad_request(N_("Choisissez « Approuver » ou « Refuser »."))
    provider = get_provider(request.registry)
    body = provider.callback_body(payment.reference, status, payment.amount)
    sent = Request.blank("/@payment-callback", method="POST", body=body,
                         headers={SIGNATURE_HEADER: provider.sign(body),
                                  "Content-Type": "application/json"})
    outcome = process_callback(request, provider.parse_callback(sent))
    messages = {"approved": _("Paiement de ${amount} accepté. Un reçu est envoyé à "
                              "${email}.", mapping={
                                  "amount": formats.amount_text(request, payment.amount),
                                  "email": payment.email}),
                "declined": _("Le paiement a été refusé : rien n'a été débité."),
                "refused": _(outcome.message),
                "already processed": _("Ce paiement était déjà traité.")}
    flash(request, messages[outcome.status])
    return HTTPSeeOther(location=request.application_url + "/@@my-payments")


def includeme(config):
    config.add_view(fake_page, context=ISite, name="fake-payment", request_method="GET",
                    renderer="fake_payment.jinja2", permission="site:view")
    config.add_view(fake_decide, context=ISite, name="fake-payment",
                    request_method="POST", permission="site:view")
