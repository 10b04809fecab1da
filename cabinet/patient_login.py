"""Patient login (A3): a person of the cabinet directory (a patient, parent 1,
parent 2 or the financial guarantor of a patient record) is identified by phone
number, last name, first name and birth date, then confirms with a code sent by SMS.

- Phones are normalised with ``phonenumbers`` to E.164: Luxembourg by default,
  France, Belgium and Germany too (international form, or the national form with
  the country chosen).
- Names are compared without case, accents, hyphens and extra spaces.
- Exactly one person must match; the records naming that person may be several (a
  mother of two), but they must not lead to two different accounts.
- The person logs in as a User account: the one linked to their patient record or
  to their identity (``directory_accounts``), or a new one without password, whose
  login is derived from the name (``p.leroy``, ``p.leroy.lea``, ``p.leroy.lea2``...).
- They hold the local role ``patient`` on their own records (granted at login), and
  the computed role ``guardian`` on the records of the minors they are parent or
  guarantor of, where minors' access for documents is on (the patient's override,
  else the cabinet's switch): computed on every request from the records as they are
  now, so that a child turning 18, a switch turned off or a guardian replaced takes
  effect at once.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import phonenumbers
from sqlalchemy import or_, select

from cabinet.i18n import N_
from cabinet.identity import identity_fact
from cabinet.interfaces import IClock
from cabinet.models import Cabinet, DirectoryAccount, LocalRole, Patient, PortalLogin, User
from cabinet.security import ComputedRole

COUNTRIES = {"LU": "Luxembourg", "FR": "France", "BE": "Belgique", "DE": "Allemagne"}
DEFAULT_COUNTRY = "LU"
RELATIONS = ("patient", "parent1", "parent2", "guarantor")
#: a person's relation to a record (msgids: JSON gives them in French, the pages in
#: the reader's language)
RELATION_TITLES = {"patient": N_("patient"), "parent1": N_("parent 1"),
                   "parent2": N_("parent 2"), "guarantor": N_("garant financier")}
NO_MATCH = N_("Nous ne pouvons pas vous identifier avec ces informations. Vérifiez-les, "
              "ou contactez votre cabinet.")
ADULT_AGE = 18


class InvalidPhone(ValueError):
    message = N_("Numéro de téléphone invalide : saisissez un numéro de portable du "
                 "Luxembourg, de France, de Belgique ou d'Allemagne (par exemple "
                 "+352 621 123 456).")


def normalise_phone(raw, country=DEFAULT_COUNTRY):
    """E.164 (``+352621123456``) of a phone number typed in any usual way; raises
    InvalidPhone. ``country`` is the region of a number in national form."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 40:
        raise InvalidPhone(raw)
    country = (country or DEFAULT_COUNTRY).upper()
    if country not in COUNTRIES:
        raise InvalidPhone(raw)
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(raw) from exc
    if not phonenumbers.is_valid_number(number) or \
            phonenumbers.region_code_for_number(number) not in COUNTRIES:
        raise InvalidPhone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def stored_phone(raw):
    """A phone of the directory in E.164, or None when it cannot be read."""
    try:
        return normalise_phone(raw or "")
    except InvalidPhone:
        return None


def display_phone(e164):
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def name_key(text):
    """``Léa-Marie  D'Arc`` -> ``lea marie d arc``."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\s\-'’.]+", " ", text).split())[:200]


@dataclass(frozen=True)
class Identity:
    """What the person typed, normalised."""
    phone: str
    last_name: str
    first_name: str
    birth_date: date

    @property
    def key(self):
        return (self.phone, name_key(self.last_name), name_key(self.first_name),
                self.birth_date)

    def as_json(self):
        return {"phone": self.phone, "last_name": self.last_name,
                "first_name": self.first_name, "birth_date": self.birth_date.isoformat()}

    @classmethod
    def from_json(cls, data):
        return cls(data["phone"], data["last_name"], data["first_name"],
                   date.fromisoformat(data["birth_date"]))


@dataclass
class Match:
    """The person found: the records that name them, and as what."""
    identity: Identity
    records: list = field(default_factory=list)    # [(patient, relation)]

    @property
    def display_name(self):
        patient, relation = self.records[0]
        prefix = "" if relation == "patient" else f"{relation}_"
        return f"{getattr(patient, prefix + 'first_name')} " \
               f"{getattr(patient, prefix + 'last_name')}".strip()


def _person_of(patient, relation):
    prefix = "" if relation == "patient" else f"{relation}_"
    return (stored_phone(getattr(patient, prefix + "phone")),
            name_key(getattr(patient, prefix + "last_name")),
            name_key(getattr(patient, prefix + "first_name")),
            getattr(patient, prefix + "birth_date"))


def _birth_column(relation):
    return getattr(Patient, "birth_date" if relation == "patient" else f"{relation}_birth_date")


def records_naming(session, key, relations=RELATIONS):
    """[(patient, relation)] of the records naming the person ``key`` (phone, last
    name key, first name key, birth date): one query on the indexed birth dates, the
    rest compared here (stored phones may be written in any usual form)."""
    birth = key[3]
    patients = session.scalars(select(Patient).where(
        or_(*(_birth_column(r) == birth for r in relations))).order_by(Patient.id))
    return [(patient, relation) for patient in patients for relation in relations
            if _person_of(patient, relation) == key]


def find_person(session, identity):
    """The Match of ``identity``, or None when no record names it."""
    records = records_naming(session, identity.key)
    return Match(identity, records) if records else None


def account_candidates(session, match):
    """Ids of the accounts this person already has: the one linked to their identity,
    and those of the records where they are the patient."""
    phone, last, first, born = match.identity.key
    ids = set(session.scalars(select(DirectoryAccount.user_id).where(
        DirectoryAccount.phone == phone, DirectoryAccount.last_name_key == last,
        DirectoryAccount.first_name_key == first, DirectoryAccount.birth_date == born)))
    ids |= {patient.user_id for patient, relation in match.records
            if relation == "patient" and patient.user_id is not None}
    return ids


def _free_login(session, match):
    def slug(text):
        return re.sub(r"[^a-z0-9]+", "", name_key(text))[:40] or "x"
    last, first = slug(match.identity.last_name), slug(match.identity.first_name)
    base = [f"p.{last}", f"p.{last}.{first}"]
    taken = set(session.scalars(select(User.login).where(User.login.like(f"p.{last}%"))))
    for login in base:
        if login not in taken:
            return login
    n = 2
    while f"{base[1]}{n}" in taken:
        n += 1
    return f"{base[1]}{n}"


def account_for(request, match):
    """The User of this person (created on first login, without password), with the
    role ``patient`` on their own records. None when the records lead to several
    accounts (the same person entered twice with different accounts)."""
    session = request.dbsession
    ids = account_candidates(session, match)
    if len(ids) > 1:
        return None
    identity = match.identity
    if ids:
        user = session.get(User, ids.pop())
        if user is None or not user.active:
            return None
    else:
        user = User(login=_free_login(session, match), fullname=match.display_name,
                    phone=identity.phone, password_hash=None)
        session.add(user)
        session.flush()
    phone, last, first, born = identity.key
    linked = session.scalar(select(DirectoryAccount.id).where(
        DirectoryAccount.phone == phone, DirectoryAccount.last_name_key == last,
        DirectoryAccount.first_name_key == first, DirectoryAccount.birth_date == born))
    if linked is None:
        session.add(DirectoryAccount(user_id=user.id, phone=phone, last_name_key=last,
                                     first_name_key=first, birth_date=born))
    if not user.phone:
        user.phone = identity.phone
    for patient, relation in match.records:
        if relation != "patient":
            continue
        if patient.user_id is None:
            patient.user_id = user.id
        granted = session.scalar(select(LocalRole.id).where(
            LocalRole.node_id == patient.id, LocalRole.principal == user.principal,
            LocalRole.role == "patient"))
        if granted is None:
            session.add(LocalRole(node_id=patient.id, principal=user.principal,
                                  role="patient"))
    session.flush()
    return user


def record_portal_login(request, user, match):
    """A login to the patient portal, for the statistics (issue #10, K5): one row in
    each cabinet whose records name this person (as patient, parent or guarantor),
    at the clock's time, in the login's transaction."""
    paths = {cabinet_path(patient) for patient, _relation in match.records}
    if not paths:
        return
    session = request.dbsession
    now = request.registry.getUtility(IClock).now()
    for cabinet_id in session.scalars(select(Cabinet.id).where(Cabinet.path.in_(paths))
                                      .order_by(Cabinet.id)):
        session.add(PortalLogin(cabinet_id=cabinet_id, user_id=user.id, at=now))
    session.flush()


# -- minors and their guardians -------------------------------------------------------

def is_minor(patient, today):
    born = patient.birth_date
    if born is None:
        return False
    try:
        adult_on = born.replace(year=born.year + ADULT_AGE)
    except ValueError:                      # born on 29 February
        adult_on = date(born.year + ADULT_AGE, 3, 1)
    return today < adult_on


def cabinet_path(patient):
    """``/cabinets/parc/`` of ``/cabinets/parc/patients/leroy/``."""
    parts = patient.path.strip("/").split("/")
    return "/" + "/".join(parts[:2]) + "/"


def minors_access(session, patients):
    """{patient id: bool}: whether guardians see each record's documents (the
    record's override, else its cabinet's switch). One query for the cabinets."""
    paths = {cabinet_path(p) for p in patients if p.minors_access not in ("on", "off")}
    switches = {path: switch for path, switch in session.execute(
        select(Cabinet.path, Cabinet.minors_access_documents)
        .where(Cabinet.path.in_(paths)))} if paths else {}
    return {p.id: (p.minors_access == "on") if p.minors_access in ("on", "off")
            else bool(switches.get(cabinet_path(p))) for p in patients}


def accounts_of(session, user_id):
    return list(session.scalars(select(DirectoryAccount).where(
        DirectoryAccount.user_id == user_id)))


def guarded_minors(session, user_id, today, with_access=True):
    """[(patient, relation)]: the minors whose parent or guarantor this user is (by
    the records as they are now), with minors' access on unless ``with_access`` is
    False."""
    found = []
    for account in accounts_of(session, user_id):
        key = (account.phone, account.last_name_key, account.first_name_key,
               account.birth_date)
        found += [(p, r) for p, r in records_naming(session, key, RELATIONS[1:])
                  if is_minor(p, today)]
    if with_access and found:
        access = minors_access(session, [p for p, _r in found])
        found = [(p, r) for p, r in found if access[p.id]]
    seen, out = set(), []
    for patient, relation in found:
        if patient.id not in seen:
            seen.add(patient.id)
            out.append((patient, relation))
    return out


def guardians_of(session, patient, today):
    """Ids of the accounts of the parents and guarantor that the minor's record
    ``patient`` names, when minors' access lets them act for it: the reverse of
    guarded_minors (who holds ``guardian`` on this record). One query."""
    if not is_minor(patient, today) or not minors_access(session, [patient])[patient.id]:
        return []
    keys = {_person_of(patient, relation) for relation in RELATIONS[1:]}
    keys = {key for key in keys if key[3] is not None and key[0]}
    if not keys:
        return []
    rows = session.execute(select(
        DirectoryAccount.user_id, DirectoryAccount.phone, DirectoryAccount.last_name_key,
        DirectoryAccount.first_name_key, DirectoryAccount.birth_date)
        .where(DirectoryAccount.birth_date.in_({key[3] for key in keys})))
    return sorted({user_id for user_id, *key in rows if tuple(key) in keys})


def guardian_roles(request):
    """Computed role source (cabinet.security.ComputedRole): ``guardian`` on the
    records of the minors the signed-in user is responsible for."""
    user = request.identity
    if user is None:
        return []
    if not identity_fact(request, "directory_person"):
        return []
    today = request.registry.getUtility(IClock).today()
    return [ComputedRole(path=patient.path, role="guardian", source=patient,
                         acting_for={"type": "guardian", "relation": relation,
                                     "patient": patient.title})
            for patient, relation in guarded_minors(request.dbsession, user.id, today)]


def _directory_person_fact(user_id, group_ids):
    return select(DirectoryAccount.id).where(DirectoryAccount.user_id == user_id).exists()


def includeme(config):
    config.add_identity_fact("directory_person", _directory_person_fact)
    sources = config.registry.setdefault("computed_role_sources", [])
    if guardian_roles not in sources:
        sources.append(guardian_roles)
