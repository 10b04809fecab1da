"""New-message notifications (issue #9, P3): a mail to the cabinet (its address) when
a patient writes, to the patient (the record's address) when the cabinet answers.
Sent through cabinet.mail after the commit only; the mail says nothing of the message
(no text, no file, no name of a patient): only that there is one, and where. The
patient's address is the record's, else its account's.
``cabinet.messages.notify = false`` turns them off."""
from pyramid.settings import asbool

from cabinet.mail import send_mail


def _account_email(request, patient):
    from cabinet.models import User
    user = request.dbsession.get(User, patient.user_id) if patient.user_id else None
    return user.email if user is not None else ""


def notify(request, patient, cabinet, message):
    if not asbool(request.registry.settings.get("cabinet.messages.notify", True)):
        return None
    base = request.application_url
    if message.side == "patient":
        to = cabinet.email
        subject = "Nouveau message d'un patient"
        body = ("Un patient vous a écrit dans la messagerie de Cabinet.\n\n"
                f"Messages non lus : {base}{cabinet.path}@@messages\n")
    else:
        to = patient.email or _account_email(request, patient)
        subject = f"Nouveau message de {cabinet.title}"
        body = (f"{cabinet.title} vous a écrit dans votre messagerie.\n\n"
                f"Pour le lire, connectez-vous : {base}/@@my-messages\n")
    if not to:
        return None
    return send_mail(request, to, subject, body)
