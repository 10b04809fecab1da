"""New-message notifications (issue #9, P3): a mail to the cabinet (its address) when
a patient writes, to the patient (the record's address) when the cabinet answers.
Sent through cabinet.mail after the commit only; the mail says nothing of the message
(no text, no file, no name of a patient): only that there is one, and where. The
patient's address is the record's, else its account's; for a minor, the parents and
guarantor who act for the record on the portal (cabinet.patient_login.guardians_of)
are told at their accounts' addresses too. A record hidden from the portal by the
GDPR opt-out gets no mail: its people cannot read the message there.
``cabinet.messages.notify = false`` turns them off."""
from pyramid.settings import asbool

from cabinet.i18n import N_, default_language, language_of, translate
from cabinet.mail import send_mail


def _account_email(request, patient):
    from cabinet.models import User
    user = request.dbsession.get(User, patient.user_id) if patient.user_id else None
    return user.email if user is not None else ""


def patient_side_recipients(request, patient):
    """[(address, account or None)] where a message of the cabinet on ``patient``'s
    record is announced (the account, when known, says the mail's language)."""
    from sqlalchemy import select

    from cabinet.interfaces import IClock
    from cabinet.models import User
    from cabinet.modules import opted_out
    from cabinet.patient_login import guardians_of
    session = request.dbsession
    if opted_out(session, patient):
        return []
    account = session.get(User, patient.user_id) if patient.user_id else None
    recipients = [(patient.email or (account.email if account is not None else ""),
                   account)]
    today = request.registry.getUtility(IClock).today()
    guardians = guardians_of(session, patient, today)
    if guardians:
        # a guardian's account address, else the address on their own record
        from cabinet.models import Patient
        own = {}
        for user_id, email in session.execute(
                select(Patient.user_id, Patient.email).where(
                    Patient.user_id.in_(guardians), Patient.email != "")
                .order_by(Patient.id)):
            own.setdefault(user_id, email)
        recipients += [(user.email or own.get(user.id, ""), user) for user in session.scalars(
            select(User).where(User.id.in_(guardians), User.active.is_(True))
            .order_by(User.id))]
    seen, out = set(), []
    for address, user in recipients:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            out.append((address, user))
    return out


def patient_side_addresses(request, patient):
    """Where a message of the cabinet on ``patient``'s record is announced."""
    return [address for address, _user in patient_side_recipients(request, patient)]


#: the mails, msgids written in their recipient's language (cabinet.i18n)
TO_CABINET_SUBJECT = N_("Nouveau message d'un patient")
TO_CABINET_BODY = N_("Un patient vous a écrit dans la messagerie de Cabinet.\n\n"
                     "Messages non lus : ${url}\n")
TO_PATIENT_SUBJECT = N_("Nouveau message de ${cabinet}")
TO_PATIENT_BODY = N_("${cabinet} vous a écrit dans votre messagerie.\n\n"
                     "Pour le lire, connectez-vous : ${url}\n")


def notify(request, patient, cabinet, message):
    """The mails announcing ``message``: the cabinet's in the practice's language (the
    default one: no account says another), the patient side's each in its
    recipient's language. The last mail sent, or None."""
    if not asbool(request.registry.settings.get("cabinet.messages.notify", True)):
        return None
    base = request.application_url
    if message.side == "patient":
        if not cabinet.email:
            return None
        lang = default_language(request)
        return send_mail(request, [cabinet.email],
                         translate(request, TO_CABINET_SUBJECT, lang),
                         translate(request, TO_CABINET_BODY, lang,
                                   url=f"{base}{cabinet.path}@@messages"))
    by_language = {}
    for address, user in patient_side_recipients(request, patient):
        by_language.setdefault(language_of(request, user), []).append(address)
    sent = None
    for lang, addresses in by_language.items():   # one mail per recipient
        sent = send_mail(request, addresses,
                         translate(request, TO_PATIENT_SUBJECT, lang, cabinet=cabinet.title),
                         translate(request, TO_PATIENT_BODY, lang, cabinet=cabinet.title,
                                   url=f"{base}/@@my-messages"))
    return sent
