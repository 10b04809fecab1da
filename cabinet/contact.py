"""Checking contact details typed by people (a cabinet's card, a patient's proposal):
emails, phones (E.164 through cabinet.patient_login.normalise_phone), addresses."""
import re

from cabinet.i18n import N_, _
from cabinet.patient_login import InvalidPhone, normalise_phone

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
BAD_EMAIL = N_("Adresse électronique invalide (par exemple nom@exemple.lu).")
BAD_PHONE = N_("Numéro de téléphone invalide : un numéro du Luxembourg, de France, de "
               "Belgique ou d'Allemagne (par exemple +352 621 123 456).")
TOO_LONG = N_("${label} : texte de ${limit} caractères au plus.")
REQUIRED = N_("${label} : obligatoire.")


def check_email(value):
    """(normalised, error)."""
    if not isinstance(value, str):
        return None, BAD_EMAIL
    value = value.strip()
    if value and (len(value) > 254 or not EMAIL.match(value)):
        return None, BAD_EMAIL
    return value, None


def check_phone(value):
    if not isinstance(value, str):
        return None, BAD_PHONE
    if not value.strip():
        return "", None
    try:
        return normalise_phone(value), None
    except InvalidPhone:
        return None, BAD_PHONE


def check_text(value, limit, label, required=False):
    """(stripped, error); the error is a msgid naming the field by ``label`` (a msgid
    too: a page shows it in the reader's language, JSON in French)."""
    if not isinstance(value, str) or len(value) > limit or \
            any(ord(c) < 32 and c not in "\n" for c in value):
        return None, _(TOO_LONG, mapping={"label": label, "limit": limit})
    value = value.strip()
    if required and not value:
        return None, _(REQUIRED, mapping={"label": label})
    return value, None
