"""The patient portal (issue #9): the records a signed-in patient or guardian uses,
"the current patient" (P8, kept in the session), and what the home page shows (P1).

``portal_records(request)`` are the records of cabinet.appointments.my_records
(where the user is the patient or a guardian) whose portal is open (not every
practitioner inactive, cabinet.modules); ``module_records(request, name)`` those of
them where module ``name`` is on (and open to guardians for a minor's record).
"""
from dataclasses import dataclass

from sqlalchemy import select

from cabinet import modules
from cabinet.appointments import my_records
from cabinet.models import Cabinet, Patient

SESSION_KEY = "portal.patient"


@dataclass
class Record:
    patient: Patient
    cabinet: Cabinet
    guardian: bool           # the user acts as a guardian, not as the patient
    closed: bool             # every practitioner of the patient is inactive


def cabinet_path_of(path):
    head, sep, _tail = path.rpartition("/patients/")
    return head + "/" if sep else None


def records(request):
    """[Record] of every record the user is the patient or a guardian of (cached on
    the request; two queries)."""
    cached = request.__dict__.get("_portal_records")
    if cached is not None:
        return cached
    paths = my_records(request)
    found = []
    if paths:
        session = request.dbsession
        patients = {p.path: p for p in session.scalars(
            select(Patient).where(Patient.path.in_(paths)))}
        cabinets = {c.path: c for c in session.scalars(select(Cabinet).where(
            Cabinet.path.in_({cabinet_path_of(p) for p in paths})))}
        for path in paths:
            patient, cabinet = patients.get(path), cabinets.get(cabinet_path_of(path))
            if patient is None or cabinet is None:
                continue
            found.append(Record(patient, cabinet, modules.as_guardian(request, patient),
                                modules.portal_closed(session, cabinet, patient)))
    # one's own records first, then the minors, by name
    found.sort(key=lambda r: (r.guardian, r.patient.title, r.patient.path))
    request.__dict__["_portal_records"] = found
    return found


def is_portal_user(request):
    return bool(records(request))


def open_records(request):
    return [r for r in records(request) if not r.closed]


def module_on(record, name):
    if not modules.enabled(record.cabinet, name):
        return False
    return not record.guardian or modules.minors_allowed(record.cabinet, name,
                                                         record.patient)


def module_records(request, name):
    """The open records where module ``name`` is on for the user."""
    return [r for r in open_records(request) if module_on(r, name)]


def module_paths(request, name):
    return [r.patient.path for r in module_records(request, name)]


def current(request):
    """The current patient's Record (P8): the one chosen in the session if it is
    still one of the user's open records, else the first of them; None without."""
    available = open_records(request)
    if not available:
        return None
    chosen = request.session.get(SESSION_KEY)
    return next((r for r in available if r.patient.path == chosen), available[0])


def choose(request, patient):
    """Make ``patient`` the current patient; False when it is not one of the user's
    open records (nothing changes)."""
    if not any(r.patient.id == patient.id for r in open_records(request)):
        return False
    request.session[SESSION_KEY] = patient.path
    return True
