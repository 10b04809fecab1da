"""Who may read and change what, feature by feature (issue #6, access control).

tests/workflow/test_matrix.py checks every workflow role in the abstract (fresh users
holding one role on synthetic nodes); tests/security/test_cross_access.py one other
cabinet's staff. Here the question is asked of the people of the domain, on the demo's
real resources, through HTTP: the owner patient, another patient, guardians with
minors' access, with it for documents only, and without it, a professional, his
secretaries whose delegation is active / invited / ended / past its end date, the
administrator, manager and member without signature of a professional space, staff of
another cabinet, and an anonymous visitor (``PRINCIPALS``).

For a representative resource of every feature (patient record, documents pending /
sent / signed, questionnaire response, appointment, a minor's record and items,
delegations, space, membership, mandate, questionnaire template, professional page:
``RESOURCES``) each principal GETs it (JSON with a bearer token, and the HTML page with
a session) and tries one unsafe action (a PATCH or a workflow transition). The table
is the expectation, written from the domain rules (shared/domain.md, shared/design.md),
not from the code: an allowed principal gets 200, anyone else 403 (anonymous: 401),
and no refusal shows the resource's title. ``ENDPOINTS`` does the same for the
features' other read endpoints, ``EXTRA_ACTIONS`` for more unsafe requests; listings
(search, folders) must show exactly what each principal may open; ids of another
patient or cabinet are refused in the URL, in JSON bodies and in form fields.

The missing principals are built once per test with the code paths the application
uses (cabinet.content.add_node, cabinet.patient_login.account_for for the people of
the directory, delegations and memberships as their workflows leave them, dates from
the application's clock); the demo itself is loaded once (tests/conftest.py).
"""
import json
import secrets
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cabinet.content import add_node
from cabinet.interfaces import IClock
from cabinet.models import ApiToken, Delegation, LocalRole, Node, User
from cabinet.patient_login import Identity, account_for, find_person
from cabinet.resources import get_root
from cabinet.scripts.demo import _child, _demo_hash
from cabinet.security import token_hash
from cabinet.terms import accept_current_terms
from tests.conftest import Api, login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
MULLER = f"{PARC}/patients/muller"
KLEIN = f"{PARC}/patients/zoe-klein"
MARTIN = "/professionals/martin"
SANTE = "/spaces/sante-services"

#: principals (the keys of ALLOWED's sets); "anonymous" has no token
PRINCIPALS = ("patient", "other_patient", "guardian", "guardian_no_access",
              "guardian_documents_only",
              "professional", "secretary", "secretary_invited", "secretary_ended",
              "secretary_past_end", "space_admin", "space_manager", "space_member", "other_staff",
              "other_professional", "anonymous")

#: logins of the principals (those created by the ``world`` fixture included)
LOGINS = {"patient": "p.leroy", "professional": "dr.martin", "secretary": "sec.dupont",
          "secretary_invited": "sec.invitee", "secretary_ended": "sec.ancienne",
          "secretary_past_end": "sec.echue",
          "space_admin": "space.admin", "space_manager": "space.manager",
          "space_member": "space.member", "other_staff": "staff.gare",
          "other_professional": "dr.gare"}

# the cabinet's side: its professional and the secretary acting for him
CABINET = {"professional", "secretary"}

#: resource -> (path, unsafe action, {action: principals allowed}). Unsafe actions:
#: ("PATCH", field) sends the field's current value again, ("PATCH_ROLE", role) a
#: member's role, ("POST", "@workflow/<transition>") fires it; after a success the
#: resource is put back as it was so that the next principal finds it unchanged.
#: "conflict": on a resource in a final state nobody may change it; those who may see
#: it get 409 (the state refuses, and they know the state), everybody else 403.
RESOURCES = {
    # Léa Leroy's record and items: her cabinet (and its secretary), and herself for
    # reading (she neither edits her record nor withdraws / edits documents)
    "record": (LEROY, ("PATCH", "title"), {
        "view": CABINET | {"patient"}, "unsafe": CABINET}),
    "document_pending": (f"{LEROY}/documents/devis", ("PATCH", "title"), {
        "view": CABINET, "unsafe": CABINET}),          # not sent yet: not hers to see
    "document_sent": (f"{LEROY}/documents/consentement", ("POST", "@workflow/withdraw"), {
        "view": CABINET | {"patient"}, "unsafe": CABINET}),
    # signed: final, nobody changes it; who may see it is told why (409), not others
    "document_signed": (f"{LEROY}/documents/radio", ("PATCH", "title"), {
        "view": CABINET | {"patient"}, "unsafe": set(),
        "conflict": CABINET | {"patient"}}),
    "questionnaire": (f"{LEROY}/questionnaires/suivi", ("POST", "@workflow/validate"), {
        "view": CABINET | {"patient"}, "unsafe": CABINET}),  # filled: the cabinet validates
    "appointment": (f"{LEROY}/appointments/consultation-a-venir", ("PATCH", "place"), {
        "view": CABINET | {"patient"}, "unsafe": CABINET}),
    # Hugo Leroy, a minor whose record opens minors' access (documents and
    # questionnaires): his guardian reads; his mother's own account (no directory
    # link) gives her nothing on him
    "minor_record": (HUGO, ("PATCH", "title"), {
        "view": CABINET | {"guardian"}, "unsafe": CABINET}),
    "minor_document_sent": (f"{HUGO}/documents/autorisation", ("POST", "@workflow/withdraw"),
                            {"view": CABINET | {"guardian"}, "unsafe": CABINET}),
    "minor_questionnaire": (f"{HUGO}/questionnaires/bilan", ("POST", "@workflow/validate"), {
        "view": CABINET | {"guardian"}, "unsafe": CABINET}),
    "minor_appointment": (f"{HUGO}/appointments/controle-hugo", ("PATCH", "place"), {
        "view": CABINET | {"guardian"}, "unsafe": CABINET}),
    # care items (issue #9, P2): the cabinet records and edits them; the patient and
    # the guardian of a minor read them (and pay: EXTRA_ACTIONS)
    "care_item": (f"{LEROY}/payments/couronne", ("PATCH", "title"), {
        "view": CABINET | {"patient"}, "unsafe": CABINET}),
    "minor_care_item": (f"{HUGO}/payments/bilan-ortho", ("PATCH", "title"), {
        "view": CABINET | {"guardian"}, "unsafe": CABINET}),
    # images (issue #9, P5): image nodes are the cabinet's; the patient and the
    # guardians see the shared ones through the record's album only (ENDPOINTS)
    "image": (f"{LEROY}/imaging/sourire-debut", ("PATCH", "title"), {
        "view": CABINET, "unsafe": CABINET}),
    # Lena Muller, a minor whose cabinet keeps minors' access off: her guardian sees
    # nothing of her
    "minor_record_no_access": (MULLER, ("PATCH", "title"), {
        "view": CABINET, "unsafe": CABINET}),
    "minor_document_no_access": (f"{MULLER}/documents/consentement",
                                 ("POST", "@workflow/withdraw"),
                                 {"view": CABINET, "unsafe": CABINET}),
    # Zoé Klein, a minor whose record opens minors' access for documents only (the two
    # switches are independent, Q4 / cabinet.questionnaire_access): her guardian sees
    # her record and documents, not her questionnaires
    "minor_record_documents_only": (KLEIN, ("PATCH", "title"), {
        "view": CABINET | {"guardian_documents_only"}, "unsafe": CABINET}),
    "minor_document_documents_only": (f"{KLEIN}/documents/radio",
                                      ("POST", "@workflow/withdraw"), {
        "view": CABINET | {"guardian_documents_only"}, "unsafe": CABINET}),
    "minor_questionnaire_documents_only": (f"{KLEIN}/questionnaires/bilan",
                                           ("POST", "@workflow/validate"), {
        "view": CABINET, "unsafe": CABINET}),
    # delegations: the professional and the secretary named; ending and cancelling
    # are never delegated (D4, design: NEVER_DELEGATED)
    "delegation_active": (f"{MARTIN}/delegations/sec-dupont", ("POST", "@workflow/end"), {
        "view": {"professional", "secretary"}, "unsafe": {"professional"}}),
    "delegation_invited": (f"{MARTIN}/delegations/invitee", ("POST", "@workflow/accept"), {
        "view": {"professional", "secretary", "secretary_invited"},
        "unsafe": {"secretary_invited"}}),
    "delegation_ended": (f"{MARTIN}/delegations/ancienne", ("POST", "@workflow/cancel"), {
        "view": {"professional", "secretary", "secretary_ended"}, "unsafe": set(),
        "conflict": {"professional", "secretary", "secretary_ended"}}),
    # still "active" but its end date passed yesterday (the worker has not expired it
    # yet): it grants nothing any more but the sight of itself (D4)
    "delegation_past_end": (f"{MARTIN}/delegations/echue", ("POST", "@workflow/end"), {
        "view": {"professional", "secretary", "secretary_past_end"},
        "unsafe": {"professional"}}),
    # professional space (S1-S4): members see; the administrator edits, manages
    # members and revokes mandates
    "space": (SANTE, ("PATCH", "title"), {
        "view": {"space_admin", "space_manager", "space_member"}, "unsafe": {"space_admin"}}),
    "membership": (f"{SANTE}/members/weber", ("PATCH_ROLE", "space_admin"), {
        "view": {"space_admin", "space_manager", "space_member"}, "unsafe": {"space_admin"}}),
    "mandate": (f"{SANTE}/mandates/facturation-fidu", ("POST", "@workflow/revoke"), {
        "view": {"space_admin", "space_manager"}, "unsafe": {"space_admin"}}),
    # Q1: the cabinet's staff manage the templates
    "questionnaire_template": (f"{PARC}/questionnaire-templates/questionnaire-medical",
                               ("PATCH", "title"), {"view": CABINET, "unsafe": CABINET}),
    # a professional's page: every signed-in user reads it (design: the directory of
    # practitioners); he edits it, and his secretary in his name (D5)
    "professional_page": (MARTIN, ("PATCH", "title"), {
        "view": set(PRINCIPALS) - {"anonymous"}, "unsafe": {"professional", "secretary"}}),
    # the other cabinet's own patient: its staff, nobody of Parc
    "other_cabinet_record": ("/cabinets/gare/patients/durand", ("PATCH", "title"), {
        "view": {"other_staff", "other_professional"},
        "unsafe": {"other_staff", "other_professional"}}),
}

SIGNED_IN = set(PRINCIPALS) - {"anonymous"}
#: the patients and guardians with a record (Anna Muller's minor is closed to her)
PORTAL_USERS = {"patient", "other_patient", "guardian", "guardian_documents_only"}

#: the features' other read endpoints (lists, consoles, settings, files, history):
#: path -> principals allowed to GET it (everyone else: 403, anonymous 401)
ENDPOINTS = {
    # the patient's portal data: herself and her cabinet
    f"{LEROY}/@patient-documents": CABINET | {"patient"},
    f"{LEROY}/@patient-questionnaires": CABINET | {"patient"},
    f"{LEROY}/@appointments": CABINET | {"patient"},
    f"{LEROY}/documents/consentement/@file": CABINET | {"patient"},
    f"{LEROY}/documents/consentement/@workflow": CABINET | {"patient"},
    f"{LEROY}/documents/devis/@file": CABINET,
    f"{LEROY}/questionnaires/suivi/@fhir": CABINET | {"patient"},
    f"{LEROY}/documents": CABINET | {"patient"},
    f"{LEROY}/@payments": CABINET | {"patient"},          # issue #9, P2
    f"{LEROY}/payments": CABINET | {"patient"},
    f"{LEROY}/payments/detartrage/@payments": CABINET | {"patient"},
    # the minor's, for the guardian where minors' access is on
    f"{HUGO}/@patient-documents": CABINET | {"guardian"},
    f"{HUGO}/@patient-questionnaires": CABINET | {"guardian"},
    f"{HUGO}/@appointments": CABINET | {"guardian"},
    f"{HUGO}/@payments": CABINET | {"guardian"},
    f"{HUGO}/documents/autorisation/@workflow": CABINET | {"guardian"},
    f"{MULLER}/@patient-documents": CABINET,
    f"{MULLER}/@appointments": CABINET,
    f"{MULLER}/@payments": CABINET,
    # the cabinet's side only: history, who has access, consoles and settings
    f"{LEROY}/@history": CABINET,
    f"{LEROY}/documents/consentement/@history": CABINET,
    f"{LEROY}/@sharing": CABINET,
    f"{PARC}": CABINET,
    f"{PARC}/patients": CABINET,
    f"{PARC}/questionnaire-templates": CABINET,
    f"{PARC}/@awaiting-signature": CABINET,
    f"{PARC}/@questionnaires": CABINET,
    f"{PARC}/@statistics": CABINET,                 # issue #10, K5
    f"{PARC}/patients/@statistics": CABINET,        # (from inside the cabinet too)
    "/cabinets/gare/@statistics": {"other_staff", "other_professional"},
    f"{PARC}/@document-types": CABINET,
    f"{PARC}/@document-settings": CABINET,
    f"{PARC}/@appointment-types": CABINET,
    f"{PARC}/@autosend-rules": CABINET,
    f"{PARC}/@appointments": CABINET,
    f"{PARC}/questionnaire-templates/questionnaire-medical/@fhir": CABINET,
    # the professional's delegations: he and the secretary acting for him
    f"{MARTIN}/delegations": {"professional", "secretary"},
    f"{MARTIN}/delegations/sec-dupont/@history": {"professional", "secretary"},
    # the space: its members; its access and history: administrator (and manager)
    f"{SANTE}/members": {"space_admin", "space_manager", "space_member"},
    f"{SANTE}/mandates": {"space_admin", "space_manager", "space_member"},
    f"{SANTE}/@sharing": {"space_admin"},
    f"{SANTE}/@history": {"space_admin", "space_manager"},
    # messaging (issue #9, P3): a record's conversation, for its patient (a minor's:
    # the guardian where minors' access is on) and the cabinet; the console list and
    # the reply templates (K3): the cabinet's side; the switcher: everyone signed in
    f"{LEROY}/@messages": CABINET | {"patient"},
    f"{LEROY}/documents/consentement/@messages": CABINET | {"patient"},
    f"{HUGO}/@messages": CABINET | {"guardian"},
    f"{KLEIN}/@messages": CABINET | {"guardian_documents_only"},
    f"{MULLER}/@messages": CABINET,
    f"{PARC}/@messages": CABINET,
    f"{PARC}/@message-templates": CABINET,
    "/cabinets/gare/@messages": {"other_staff", "other_professional"},
    "/@my-messages": set(PRINCIPALS) - {"anonymous"},
    # appointment reminders (issue #9, P7): the people who see appointments of a
    # record as its patient or guardian (minors' access respected), each their own
    "/@my-notifications": {"patient", "other_patient", "guardian",
                           "guardian_documents_only"},
    # the patient portal (issue #9): whoever is a patient or a guardian of a record;
    # a cabinet's settings (K1, K2) and the proposals of a record: the cabinet
    "/@portal": PORTAL_USERS,
    "/@my-cabinet": PORTAL_USERS,
    "/@my-information": PORTAL_USERS,
    "/@manage-patients": PORTAL_USERS,
    f"{LEROY}/@portal": {"patient"},            # a record's home: its own people only
    f"{HUGO}/@portal": {"guardian"},
    f"{PARC}/@settings": CABINET,
    f"{LEROY}/@information-proposals": CABINET,
    # imaging (issue #9, P5): a record's album and its shared images, for its patient
    # (a minor's: the guardian where imaging's minors' access is on, as in the demo)
    # and the cabinet; the selection (K3): the cabinet's side
    f"{LEROY}/@imaging": CABINET | {"patient"},
    f"{LEROY}/@imaging/sourire-debut": CABINET | {"patient"},
    f"{LEROY}/@@imaging-file/sourire-debut": CABINET | {"patient"},
    f"{LEROY}/@@imaging-zip": CABINET | {"patient"},
    f"{LEROY}/imaging/sourire-debut/@@download": CABINET,
    f"{HUGO}/@imaging": CABINET | {"guardian"},
    f"{HUGO}/@@imaging-file/panoramique-hugo": CABINET | {"guardian"},
    f"{MULLER}/@imaging": CABINET,
    f"{KLEIN}/@imaging": CABINET | {"guardian_documents_only"},
    f"{PARC}/@imaging-settings": CABINET,
    "/@my-imaging": set(PRINCIPALS) - {"anonymous"},
    # the other cabinet: its own staff
    "/cabinets/gare": {"other_staff", "other_professional"},
    "/cabinets/gare/@awaiting-signature": {"other_staff", "other_professional"},
    # the console's work queues (issue #10, K4) and a record's console: the cabinet's
    # side, each cabinet its own
    f"{PARC}/@work-queues": CABINET,
    f"{PARC}/@work-queues/patients": CABINET,
    f"{PARC}/@work-queues/payments": CABINET,
    f"{PARC}/@work-queues/messages": CABINET,
    f"{PARC}/@work-queues/signatures": CABINET,
    f"{PARC}/@work-queues/questionnaires": CABINET,
    f"{PARC}/@work-queues/patients/csv": CABINET,
    f"{LEROY}/@patient-console": CABINET,
    f"{HUGO}/@patient-console": CABINET,
    "/cabinets/gare/@work-queues/patients": {"other_staff", "other_professional"},
    "/cabinets/gare/@work-queues/payments": {"other_staff", "other_professional"},
}

# The secretary sees the delegations of the professional she acts for: with an active
# delegation she holds his roles, delegation:view included (not end / cancel / accept).


def _user(session, login_name, fullname, **fields):
    user = User(login=login_name, fullname=fullname, password_hash=_demo_hash("demo"),
                **fields)
    session.add(user)
    session.flush()
    return user


def _node(session, path):
    return session.scalar(select(Node).where(Node.path == path.rstrip("/") + "/"))


def _directory_person(request, phone, last, first, born):
    """The account a person of the cabinet directory gets at her first patient login
    (cabinet.patient_login), with a password so that she may also use the form."""
    match = find_person(request.dbsession, Identity(phone, last, first, born))
    assert match is not None, (last, first)
    user = account_for(request, match)
    user.password_hash = _demo_hash("demo")
    return user


@pytest.fixture
def world(demo, db):
    """The demo plus the principals it lacks; returns {principal: bearer token}."""
    with db() as request:
        session, registry = request.dbsession, request.registry
        today = registry.getUtility(IClock).today()
        now = registry.getUtility(IClock).now()
        root = get_root(request)
        patients = _node(session, f"{PARC}/patients")
        users = {key: session.scalar(select(User).where(User.login == login_name))
                 for key, login_name in LOGINS.items()}

        # another patient: Marc Schmit, through the patient login's account creation
        users["other_patient"] = _directory_person(
            request, "+352621000004", "Schmit", "Marc", date(1990, 6, 30))
        # Hugo's parent 2 (minors' access on for his record, documents and
        # questionnaires) and Lena Muller's parent 1 (her cabinet keeps it off)
        hugo = _node(session, HUGO)
        hugo.parent2_first_name, hugo.parent2_last_name = "Paul", "Leroy"
        hugo.parent2_birth_date, hugo.parent2_phone = date(1986, 2, 3), "+352621555001"
        hugo.minors_access_questionnaires = "on"
        muller = _node(session, MULLER)
        muller.parent1_first_name, muller.parent1_last_name = "Anna", "Muller"
        muller.parent1_birth_date, muller.parent1_phone = date(1984, 7, 8), "+352621555002"
        session.flush()
        users["guardian"] = _directory_person(
            request, "+352621555001", "Leroy", "Paul", date(1986, 2, 3))
        users["guardian_no_access"] = _directory_person(
            request, "+352621555002", "Muller", "Anna", date(1984, 7, 8))
        klein = add_node(session, registry, patients, "Patient", name="zoe-klein",
                         title="Zoé Klein", first_name="Zoé", last_name="Klein",
                         birth_date=date(2016, 9, 1), phone="",
                         parent1_first_name="Luc", parent1_last_name="Klein",
                         parent1_birth_date=date(1982, 5, 6), parent1_phone="+352621555003",
                         minors_access="on", minors_access_questionnaires="off")
        session.flush()
        users["guardian_documents_only"] = _directory_person(
            request, "+352621555003", "Klein", "Luc", date(1982, 5, 6))
        radio = add_node(session, registry, klein["documents"], "Document", name="radio",
                         title="Radiographie de Zoé", needs_signature=True)
        radio.state = "sent"
        bilan = add_node(session, registry, klein["questionnaires"], "QuestionnaireResponse",
                         name="bilan", title="Bilan de Zoé", answers={"douleur": 0})
        bilan.state = "filled"
        doc = add_node(session, registry, _node(session, f"{HUGO}/documents"), "Document",
                       name="autorisation", title="Autorisation parentale Hugo",
                       needs_signature=True)
        doc.state = "sent"
        answer = add_node(session, registry, _node(session, f"{HUGO}/questionnaires"),
                          "QuestionnaireResponse", name="bilan",
                          title="Bilan orthodontique Hugo", answers={"douleur": 1})
        answer.state = "filled"

        # secretaries of dr.martin: one invited (her account exists, she has not
        # accepted), one whose delegation ended last month, one whose delegation is
        # still active but ended yesterday by its date (the application's clock)
        pro = _node(session, MARTIN)
        folder = _node(session, f"{MARTIN}/delegations")
        for key, name, login_name, fullname, state, start, end in (
                ("secretary_invited", "invitee", "sec.invitee", "Inès Invitée", "invited",
                 today, today + timedelta(days=90)),
                ("secretary_ended", "ancienne", "sec.ancienne", "Anne Ancienne", "ended",
                 today - timedelta(days=120), today - timedelta(days=30)),
                ("secretary_past_end", "echue", "sec.echue", "Eric Échu", "active",
                 today - timedelta(days=60), today - timedelta(days=1))):
            user = _user(session, login_name, fullname, email=f"{login_name}@parc.example")
            delegation = add_node(session, registry, folder, "Delegation", name=name,
                                  title=f"{fullname} pour Dr Paul Martin",
                                  professional_id=pro.id, delegate_id=user.id,
                                  delegate_name=fullname, start_date=start, end_date=end,
                                  can_sign=False, email=user.email)
            delegation.state = state
            session.add(LocalRole(node_id=delegation.id, principal=user.principal,
                                  role="delegate"))
            users[key] = user

        # Santé Services: an administrator, a manager and a member without signature
        # besides dr.weber, as accepted invitations leave them (membership active,
        # the role on the space)
        space = _node(session, SANTE)
        for key, role, serial in (("space_admin", "space_admin", "10000000000000000001"),
                                  ("space_manager", "space_manager", "10000000000000000002"),
                                  ("space_member", "space_member", "10000000000000000003")):
            user = _user(session, key.replace("_", "."), key.replace("_", " ").title(),
                         certificate_serial=serial)
            membership = add_node(session, registry, space["members"], "Membership",
                                  name=key.replace("_", "-"), title=user.fullname,
                                  user_id=user.id, certificate=serial, role=role)
            membership.state = "active"
            session.add(LocalRole(node_id=space.id, principal=user.principal, role=role))
            users[key] = user

        # another cabinet, with a staff member, a professional and a patient
        gare = _child(request, root["cabinets"], "Cabinet", "gare", "Cabinet de la Gare")
        for key, login_name, role in (("other_staff", "staff.gare", "staff"),
                                      ("other_professional", "dr.gare", "professional")):
            user = _user(session, login_name, login_name)
            session.add(LocalRole(node_id=gare.id, principal=user.principal, role=role))
            users[key] = user
        _child(request, gare["patients"], "Patient", "durand", "Paul Durand",
               first_name="Paul", last_name="Durand", birth_date=date(1970, 1, 1))

        tokens = {}
        for key, user in users.items():
            accept_current_terms(request, user)
            token = secrets.token_urlsafe(16)
            session.add(ApiToken(user_id=user.id, token_hash=token_hash(token),
                                 created=now, expires=now + timedelta(days=1)))
            tokens[key] = token
    assert set(tokens) | {"anonymous"} == set(PRINCIPALS)
    return tokens


def _snapshot(db, path):
    with db() as request:
        node = _node(request.dbsession, path)
        return {"state": node.state, "title": node.title,
                "end_date": getattr(node, "end_date", None)}


def _restore(db, path, before):
    with db() as request:
        node = _node(request.dbsession, path)
        node.state = before["state"]
        if isinstance(node, Delegation):
            node.end_date = before["end_date"]


def _escaped(text):
    return json.dumps(text)[1:-1]


def _request(testapp, token, method, path, body=None):
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if method == "GET":
        return testapp.get(path, headers=headers, expect_errors=True)
    if method == "PATCH":
        return testapp.patch_json(path, body, headers=headers, expect_errors=True)
    return testapp.post_json(path, body or {}, headers=headers, expect_errors=True)


def check_resources(world, testapp, db):
    failures, checked = [], 0
    for resource, (path, (method, arg), allowed) in RESOURCES.items():
        assert set().union(*allowed.values()) <= set(PRINCIPALS), resource
        assert allowed.get("conflict", set()) <= allowed["view"] - allowed["unsafe"]
        before = _snapshot(db, path)
        title = before["title"]
        # the same values again (no change): a PATCH's permission check, nothing else
        if method == "PATCH":
            unsafe = ("PATCH", path, {arg: _snapshot_field(db, path, arg)})
        elif method == "PATCH_ROLE":
            unsafe = ("PATCH", path, {"role": arg})
        else:
            unsafe = ("POST", f"{path}/{arg}", {})
        for principal in PRINCIPALS:
            token = world.get(principal)
            for action, (verb, url, body) in (("view", ("GET", path, None)),
                                              ("unsafe", unsafe)):
                checked += 1
                response = _request(testapp, token, verb, url, body)
                should = principal in allowed[action]
                status = response.status_int
                where = f"{principal} {action} {resource} ({verb} {url})"
                if should:
                    if status != 200:
                        failures.append(f"{where}: {status}, expected 200: "
                                        f"{response.text[:200]}")
                    elif verb == "GET":
                        assert response.json["@id"].endswith(path) or \
                            response.json["@id"].endswith(path + "/"), where
                    if verb == "POST" and status == 200:
                        _restore(db, path, before)
                    continue
                if principal == "anonymous":
                    refused = {401}
                elif action == "unsafe" and principal in allowed.get("conflict", ()):
                    refused = {409}
                else:
                    refused = {403}
                if status not in refused:
                    failures.append(f"{where}: {status}, expected {refused}: "
                                    f"{response.text[:200]}")
                    if status == 200 and verb == "POST":
                        _restore(db, path, before)
                if title in response.text or _escaped(title) in response.text:
                    failures.append(f"{where}: the refusal shows the title {title!r}")
        assert _snapshot(db, path) == before, resource
    assert checked == len(RESOURCES) * len(PRINCIPALS) * 2
    return failures


def check_pages(world, app, db):
    """The HTML pages, signed in through the login form: the same answers, and no
    refusal page (its layout, breadcrumbs, title) shows the resource's title."""
    import webtest
    logins = dict(LOGINS)
    with db() as request:
        for key in ("other_patient", "guardian", "guardian_no_access",
                    "guardian_documents_only"):
            user = request.dbsession.get(User, _user_id_of_token(request, world[key]))
            logins[key] = user.login
    failures = []
    titles = {resource: _snapshot(db, path)["title"]
              for resource, (path, _u, _a) in RESOURCES.items()}
    for principal in PRINCIPALS:
        browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                      "REMOTE_ADDR": "127.0.0.1"})
        if principal != "anonymous":
            login(browser, logins[principal])
        for resource, (path, _u, allowed) in RESOURCES.items():
            response = browser.get(path, headers={"Accept": "text/html"},
                                   expect_errors=True)
            status = response.status_int
            if principal in allowed["view"]:
                if status != 200 or titles[resource] not in response.text:
                    failures.append(f"{principal} page {path}: {status}")
                continue
            expected = 302 if principal == "anonymous" else 403
            if status != expected:
                failures.append(f"{principal} page {path}: {status}, expected {expected}")
            if titles[resource] in response.text or \
                    titles[resource] in (response.location or ""):
                failures.append(f"{principal} page {path}: refusal shows the title")
    return failures


def _user_id_of_token(request, token):
    return request.dbsession.scalar(select(ApiToken.user_id).where(
        ApiToken.token_hash == token_hash(token)))


def check_document_files(world, testapp):
    """A document's file: downloaded by whoever may see the document; anybody else
    gets the answer of a document that does not exist (404, by design of
    cabinet.views.documents), the visitor is asked to log in (401)."""
    failures = []
    for resource in ("document_pending", "document_sent", "document_signed",
                     "minor_document_no_access"):
        path, _u, allowed = RESOURCES[resource]
        for principal in PRINCIPALS:
            response = _request(testapp, world.get(principal), "GET", f"{path}/@@download")
            if principal in allowed["view"]:
                ok = response.status_int == 200 and response.body[:4] == b"%PDF"
                expected = 200
            else:
                expected = 401 if principal == "anonymous" else 404
                ok = response.status_int == expected and b"%PDF" not in response.body
            if not ok:
                failures.append(f"{principal} download {resource}: "
                                f"{response.status_int}, expected {expected}")
    return failures


def check_messaging_files(world, testapp):
    """The file of a message: whoever sees the conversation (Léa and her cabinet);
    a reply template's file: the cabinet. Anybody else 403, the visitor 401."""
    failures = []
    staff = world["professional"]
    items = _request(testapp, staff, "GET", f"{LEROY}/@messages").json["items"]
    photo = next(m for m in items if m["attachment"])["attachment"]["download"]
    templates = _request(testapp, staff, "GET", f"{PARC}/@message-templates").json
    pdf = next(t for t in templates["items"] if t["attachment"])["attachment"]["download"]
    for url, allowed, magic in ((photo, CABINET | {"patient"}, b"\x89PNG"),
                                (pdf, CABINET, b"%PDF")):
        path = url.split("localhost", 1)[1]
        for principal in PRINCIPALS:
            response = _request(testapp, world.get(principal), "GET", path)
            expected = 200 if principal in allowed else \
                401 if principal == "anonymous" else 403
            if response.status_int != expected or \
                    (expected == 200) != response.body.startswith(magic):
                failures.append(f"{principal} GET {path}: {response.status_int}, "
                                f"expected {expected}")
    return failures


def check_endpoints(world, testapp):
    failures = []
    for path, allowed in ENDPOINTS.items():
        for principal in PRINCIPALS:
            response = _request(testapp, world.get(principal), "GET", path)
            expected = 200 if principal in allowed else \
                401 if principal == "anonymous" else 403
            if response.status_int != expected:
                failures.append(f"{principal} GET {path}: {response.status_int}, expected "
                                f"{expected}: {response.text[:160]}")
            elif expected != 200:
                for secret in ("Leroy", "Muller", "Consentement", "Gare", "Fidu"):
                    if secret in response.text and secret not in path:
                        failures.append(f"{principal} GET {path}: refusal shows {secret}")
    return failures


def check_listings(world, testapp):
    """The search (every listing's SQL filter) agrees with the per-object check: what
    a principal finds she may open, and each resource she may open is found."""
    failures, statuses = [], {}

    def status_of(principal, path):           # each item opened once per principal
        if (principal, path) not in statuses:
            statuses[principal, path] = _request(testapp, world[principal], "GET",
                                                 path).status_int
        return statuses[principal, path]

    for principal, token in world.items():
        found = _request(testapp, token, "GET", "/@search?b_size=500").json
        paths = {item["@id"].split("localhost", 1)[1].rstrip("/") for item in found["items"]}
        assert found["items_total"] == len(paths), principal
        for path in paths:
            status = status_of(principal, path)
            if status != 200:
                failures.append(f"{principal} finds {path} but GET is {status}")
        for resource, (path, _u, allowed) in RESOURCES.items():
            if principal in allowed["view"] and path not in paths:
                failures.append(f"{principal} may open {resource} but does not find it")
            if principal not in allowed["view"] and path in paths:
                failures.append(f"{principal} finds {resource}")
    # the folders' own listings (GET <folder>) filter the same way
    folders = {path.rsplit("/", 1)[0] for path, _u, _a in RESOURCES.values()}
    for principal, token in world.items():
        for folder in sorted(folders):
            response = _request(testapp, token, "GET", f"{folder}?b_size=200")
            if response.status_int != 200 or "items" not in response.json:
                continue
            listed = {item["@id"].split("localhost", 1)[1].rstrip("/")
                      for item in response.json["items"]}
            for path in listed:
                status = status_of(principal, path)
                if status != 200:
                    failures.append(f"{principal} sees {path} in {folder}, GET {status}")
            for resource, (path, _u, allowed) in RESOURCES.items():
                if path.rsplit("/", 1)[0] == folder and \
                        (principal in allowed["view"]) != (path in listed):
                    failures.append(f"{principal}: {resource} listed in {folder}: "
                                    f"{path in listed}")
    return failures


def _snapshot_field(db, path, field):
    with db() as request:
        return getattr(_node(request.dbsession, path), field)


# -- the tests: few, so that the principals are built three times, not ten -------------

def _verdict(failures):
    assert not failures, f"{len(failures)} checks failed:\n" + "\n".join(failures)


def test_resources_endpoints_and_files(world, testapp, db):
    """The matrix through the JSON API, then the features' other endpoints, the
    documents' files and other unsafe requests (last: some of them change data)."""
    _verdict(check_resources(world, testapp, db) + check_endpoints(world, testapp)
             + check_document_files(world, testapp) + check_messaging_files(world, testapp)
             + check_other_unsafe_actions(world, testapp))


def test_pages_and_listings(world, app, testapp, db):
    """The same resources as pages with a session, and every listing."""
    _verdict(check_pages(world, app, db) + check_listings(world, testapp))


def test_the_matrix_is_not_vacuous():
    """Every principal but the visitor is allowed something somewhere, and every
    resource is refused to someone."""
    granted = {p for _path, _u, allowed in RESOURCES.values()
               for principals in allowed.values() for p in principals}
    assert granted == set(PRINCIPALS) - {"anonymous"}
    for resource, (_path, _u, allowed) in RESOURCES.items():
        assert set(PRINCIPALS) - allowed["view"], resource


#: other unsafe requests of the features, each with the answer the domain expects:
#: (principal, method, path, body, status)
NEW_MEMBER = {"@type": "Membership", "certificate_serial": "2" * 20, "role": "space_member"}
GRANT_SCHMIT = {"entries": [{"id": "p.schmit", "type": "user", "roles": {"patient": True}}]}
EXTRA_ACTIONS = [
    # delegations: ending, dating and adding them is never delegated (D4, D5)
    ("secretary", "PATCH", f"{MARTIN}/delegations/sec-dupont", {"end_date": "2026-06-30"},
     403),
    ("secretary_invited", "PATCH", f"{MARTIN}/delegations/invitee",
     {"end_date": "2026-06-30"}, 403),
    ("secretary", "POST", f"{MARTIN}/delegations", {"matricule": "1987031770999"}, 403),
    ("secretary_ended", "POST", f"{MARTIN}/delegations/ancienne/@workflow/accept", {}, 409),
    # who may access a record: the professional, never through a delegation (R1)
    ("secretary", "POST", f"{LEROY}/@sharing", GRANT_SCHMIT, 403),
    ("patient", "POST", f"{LEROY}/@sharing", GRANT_SCHMIT, 403),
    ("patient", "GET", f"{LEROY}/@permissions", None, 403),
    # document sharing overrides (C2): the cabinet's side
    ("patient", "PATCH", f"{LEROY}/documents/consentement/@document-sharing",
     {"share_patient": False}, 403),
    ("guardian", "PATCH", f"{HUGO}/documents/autorisation/@document-sharing",
     {"share_guardian": False}, 403),
    ("patient", "PATCH", f"{LEROY}/@document-sharing", {"opt_out": True}, 403),
    # signing codes: only for whoever sees the document
    ("guardian_no_access", "POST", f"{MULLER}/documents/consentement/@sign-code", {}, 403),
    ("other_patient", "POST", f"{LEROY}/documents/consentement/@sign-code", {}, 403),
    # answers: the patient (a draft), not the cabinet, not another patient (Q4)
    ("other_patient", "PATCH", f"{LEROY}/questionnaires/anamnese", {"answers": {}}, 403),
    ("professional", "PATCH", f"{LEROY}/questionnaires/anamnese", {"answers": {}}, 403),
    ("guardian", "PATCH", f"{LEROY}/questionnaires/anamnese", {"answers": {}}, 403),
    ("patient", "PATCH", f"{LEROY}/questionnaires/anamnese", {"answers": {}}, 200),
    # records: adding and deleting
    ("patient", "POST", LEROY, {"@type": "Document", "title": "Intrus"}, 403),
    ("other_staff", "POST", LEROY, {"@type": "Document", "title": "Intrus"}, 403),
    ("professional", "DELETE", LEROY, None, 403),      # only the cabinet's administrator
    ("secretary", "DELETE", LEROY, None, 403),
    ("patient", "DELETE", f"{LEROY}/documents/consentement", None, 403),
    # appointments: the patient and the guardian read, the cabinet cancels
    ("patient", "POST", f"{LEROY}/appointments/consultation-a-venir/@workflow/cancel", {},
     403),
    ("guardian", "POST", f"{HUGO}/appointments/controle-hugo/@workflow/cancel", {}, 403),
    # payments (P2): the patient and the guardian pay (an amount the rules refuse
    # here: 422, nothing created), nobody else; the cabinet records care items
    ("patient", "POST", f"{LEROY}/@pay", {"amount": "1000"}, 422),
    ("guardian", "POST", f"{HUGO}/@pay", {"amount": "0"}, 422),
    ("patient", "POST", f"{LEROY}/payments/couronne/@pay", {"amount": "-1"}, 422),
    ("professional", "POST", f"{LEROY}/@pay", {"amount": "1"}, 403),
    ("secretary", "POST", f"{LEROY}/@pay", {"amount": "1"}, 403),
    ("other_patient", "POST", f"{LEROY}/@pay", {"amount": "1"}, 403),
    ("other_patient", "POST", f"{LEROY}/payments/couronne/@pay", {"amount": "1"}, 403),
    ("guardian", "POST", f"{LEROY}/@pay", {"amount": "1"}, 403),
    ("guardian_no_access", "POST", f"{MULLER}/@pay", {"amount": "1"}, 403),
    ("other_staff", "POST", f"{LEROY}/@pay", {"amount": "1"}, 403),
    ("patient", "POST", f"{LEROY}/payments",
     {"@type": "CareItem", "title": "X", "amount_due": "1"}, 403),
    ("guardian", "POST", HUGO, {"@type": "CareItem", "title": "X", "amount_due": "1"}, 403),
    ("other_staff", "POST", f"{LEROY}/payments",
     {"@type": "CareItem", "title": "X", "amount_due": "1"}, 403),
    ("patient", "PATCH", f"{LEROY}/payments/couronne", {"amount_paid": "250"}, 403),
    ("patient", "DELETE", f"{LEROY}/payments/couronne", None, 403),
    ("other_staff", "DELETE", f"{LEROY}/payments/couronne", None, 403),
    # the cabinet's settings: its administrator only
    ("professional", "POST", f"{PARC}/@document-types", {"name": "x", "title": "X"}, 403),
    ("other_staff", "POST", f"{PARC}/@document-types", {"name": "x", "title": "X"}, 403),
    ("other_staff", "POST", f"{PARC}/@appointment-types", {"name": "x", "title": "X"}, 403),
    # the portal (issue #9, #10 K2): settings by the cabinet's administrator only;
    # proposals only on one's own records, decided by the cabinet; the current
    # patient only among one's own records
    ("patient", "PATCH", f"{PARC}/@settings", {"modules": {"imaging": {"enabled": True}}},
     403),
    ("professional", "PATCH", f"{PARC}/@settings",
     {"modules": {"imaging": {"enabled": True}}}, 403),
    ("other_staff", "PATCH", f"{PARC}/@settings", {"contact": {"phone": "+35222000001"}},
     403),
    ("other_patient", "POST", f"{LEROY}/@my-information", {"values": {"email": "x@y.lu"}},
     403),
    ("guardian", "POST", f"{LEROY}/@my-information", {"values": {"email": "x@y.lu"}}, 403),
    ("patient", "POST", f"{LEROY}/@information-proposals/1", {"decision": "accept"}, 403),
    ("other_patient", "POST", f"{LEROY}/@portal-switch", {}, 403),
    ("patient", "POST", f"{HUGO}/@portal-switch", {}, 403),
    ("guardian_no_access", "POST", f"{MULLER}/@portal-switch", {}, 403),
    # spaces: only the administrator invites, changes roles, removes (S1, S3)
    ("space_member", "POST", f"{SANTE}/members", NEW_MEMBER, 403),
    ("space_manager", "POST", f"{SANTE}/members", NEW_MEMBER, 403),
    ("space_manager", "PATCH", f"{SANTE}/members/space-member", {"role": "space_manager"},
     403),
    ("space_member", "POST", f"{SANTE}/members/weber/@workflow/remove", {}, 403),
    ("space_manager", "POST", f"{SANTE}/mandates", {"@type": "Mandate"}, 403),
    ("space_member", "POST", f"{SANTE}/@activate-mandate", {"code": "x"}, 403),
    # S2: dr.martin's invitation is accepted only with its certificate: not by
    # another user, not by his secretary acting for him
    ("other_patient", "POST", f"{SANTE}/members/98765432109876543210/@accept", {}, 409),
    ("secretary", "POST", f"{SANTE}/members/98765432109876543210/@accept", {}, 409),
    ("space_member", "POST", f"{SANTE}/members/98765432109876543210/@accept", {}, 409),
    ("space_admin", "POST", f"{SANTE}/members", NEW_MEMBER, 201),
    # messaging (P3): only the record's patient / guardian and its cabinet write;
    # only the cabinet's side keeps the reply templates (K3)
    ("other_patient", "POST", f"{LEROY}/@messages", {"text": "Intrus"}, 403),
    ("guardian_no_access", "POST", f"{MULLER}/@messages", {"text": "Intrus"}, 403),
    ("other_staff", "POST", f"{LEROY}/@messages", {"text": "Intrus"}, 403),
    ("space_admin", "POST", f"{LEROY}/@messages/read", {}, 403),
    ("patient", "POST", f"{HUGO}/@messages", {"text": "Intrus"}, 403),
    ("patient", "POST", f"{PARC}/@message-templates", {"title": "x", "text": "y"}, 403),
    ("other_staff", "POST", f"{PARC}/@message-templates", {"title": "x", "text": "y"},
     403),
    ("patient", "POST", f"{LEROY}/@messages", {"text": "Bonjour"}, 201),
    ("guardian", "POST", f"{HUGO}/@messages", {"text": "Bonjour"}, 201),
    ("secretary", "POST", f"{LEROY}/@messages", {"text": "Réponse"}, 201),
    ("secretary", "POST", f"{PARC}/@message-templates", {"title": "M", "text": "T"}, 201),
    # appointment reminders (issue #9, P7): patients and guardians, for themselves
    ("professional", "POST", "/@my-notifications", {"reminders": False}, 403),
    ("secretary", "POST", "/@my-notifications", {"days_before": 1, "time": "12:00"}, 403),
    ("guardian_no_access", "POST", "/@my-notifications", {"reminders": False}, 403),
    ("patient", "POST", "/@my-notifications", {"days_before": 0, "time": "12:00"}, 422),
    ("patient", "DELETE", "/@my-notifications/1", None, 404),
    # imaging (P5, K3): the cabinet adds images (with their file: multipart, so a JSON
    # body is refused, 422) and chooses what is shared; nobody else
    ("patient", "POST", f"{LEROY}/imaging", {"@type": "Image", "title": "x"}, 403),
    ("guardian", "POST", f"{HUGO}/imaging", {"@type": "Image", "title": "x"}, 403),
    ("other_staff", "POST", f"{LEROY}/imaging", {"@type": "Image", "title": "x"}, 403),
    ("secretary", "POST", f"{LEROY}/imaging", {"@type": "Image", "title": "x"}, 422),
    ("patient", "DELETE", f"{LEROY}/imaging/sourire-debut", None, 403),
    ("other_staff", "DELETE", f"{LEROY}/imaging/sourire-debut", None, 403),
    ("patient", "PATCH", f"{PARC}/@imaging-settings", {"shared": []}, 403),
    ("guardian", "PATCH", f"{PARC}/@imaging-settings", {"shared": []}, 403),
    ("other_staff", "PATCH", f"{PARC}/@imaging-settings", {"shared": []}, 403),
    ("space_admin", "PATCH", f"{PARC}/@imaging-settings", {"shared": []}, 403),
    ("secretary", "PATCH", f"{PARC}/@imaging-settings", {"shared": [
        ["debut", "visage-sourire"], ["debut", "radio-panoramique"],
        ["fin", "visage-sourire"]]}, 200),           # the demo's selection, unchanged
]


def check_other_unsafe_actions(world, testapp):
    failures = []
    for principal, method, path, body, expected in EXTRA_ACTIONS:
        headers = {"Accept": "application/json",
                   "Authorization": f"Bearer {world[principal]}"}
        if method in ("GET", "DELETE"):
            response = getattr(testapp, method.lower())(path, headers=headers,
                                                        expect_errors=True)
        else:
            response = getattr(testapp, f"{method.lower()}_json")(
                path, body, headers=headers, expect_errors=True)
        if response.status_int != expected:
            failures.append(f"{principal} {method} {path}: {response.status_int}, "
                            f"expected {expected}: {response.text[:200]}")
    return failures


# -- ids of someone else's resource, in the URL, a JSON body, a form field -------------------

def test_ids_of_another_patient_or_cabinet_are_refused(world, testapp, db):
    api = {key: Api(testapp, token) for key, token in world.items()}
    # URL: another patient's items, one by one and through the search's path filter
    for principal in ("other_patient", "guardian_no_access", "guardian"):
        for path in (LEROY, f"{LEROY}/documents/consentement",
                     f"{LEROY}/questionnaires/anamnese", f"{LEROY}/appointments",
                     f"{LEROY}/payments", f"{LEROY}/payments/couronne",
                     f"{LEROY}/@payments"):
            response = api[principal].get(path, status=403)
            assert "Leroy" not in response.text
        found = api[principal].get(f"/@search?path={LEROY}").json
        assert found["items_total"] == 0 and found["items"] == []
    # JSON body: a template, a practitioner of another cabinet named when creating a
    # questionnaire response (staff of Gare for their own patient)
    durand = "/cabinets/gare/patients/durand"
    for body in ({"template": "questionnaire-medical"},
                 {"template": f"../../..{PARC}/questionnaire-templates/questionnaire-medical"},
                 {"template": f"{PARC}/questionnaire-templates/questionnaire-medical/"}):
        response = api["other_professional"].post(
            durand, {"@type": "QuestionnaireResponse", **body}, status=422)
        assert "template" in response.json["errors"]
        assert "Questionnaire médical" not in response.text
    # JSON body: an appointment type and a practitioner of Parc for Gare's patient
    response = api["other_staff"].post(durand, {
        "@type": "Appointment", "appointment_type": "consultation", "practitioner": "martin",
        "start": "2026-03-20T10:00", "end": "2026-03-20T10:30"}, status=422)
    assert {"appointment_type", "practitioner"} <= set(response.json["errors"])
    # JSON body: a patient granting another patient a role on her record
    api["patient"].post(f"{LEROY}/@sharing", {"entries": [
        {"id": "p.schmit", "type": "user", "roles": {"patient": True}}]}, status=403)
    # JSON body: acting under a mandate one's space only gave (Santé Services is the
    # mandant of facturation-fidu, not its holder)
    mandate = f"{SANTE}/mandates/facturation-fidu"
    for principal in ("space_admin", "other_patient"):
        response = api[principal].post("/@act-for", {"mandate": mandate},
                                       expect_errors=True)
        assert response.status_int in (403, 404, 409, 422), response.text
        assert api[principal].get("/@act-for").json["current"] is None
    with db() as request:
        schmit = request.dbsession.scalar(select(User).where(User.login == "p.schmit"))
        shared = request.dbsession.scalar(select(LocalRole.id).where(
            LocalRole.principal == schmit.principal,
            LocalRole.node_id == _node(request.dbsession, LEROY).id))
        assert shared is None

    # form fields (a signed-in session): the transition of Léa's document posted by
    # another patient, a role posted by a member without the right to manage
    login(testapp, "p.schmit")
    csrf = testapp.get("/").html.find("input", {"name": "csrf_token"})["value"]
    response = testapp.post(f"{LEROY}/documents/consentement/workflow",
                            {"csrf_token": csrf, "transition": "withdraw"}, status=403)
    assert "Consentement éclairé" not in response.text
    assert _snapshot(db, f"{LEROY}/documents/consentement")["state"] == "sent"
    # ... and her questionnaire's form (its hidden __formid__), submitted by another
    # patient, then by the professional (who reads it but does not answer for her)
    anamnese = f"{LEROY}/questionnaires/anamnese"
    for login_name in ("p.schmit", "dr.martin"):
        testapp.reset()
        login(testapp, login_name)
        csrf = testapp.get("/").html.find("input", {"name": "csrf_token"})["value"]
        testapp.post(f"{anamnese}/workflow", {"csrf_token": csrf, "__formid__": "questionnaire",
                                              "medicaments": "false", "submit": "submit"},
                     status=403)
        assert _snapshot(db, anamnese)["state"] == "sent"
    # a select posted to another cabinet's patient: Parc's template and practitioner
    # named for Gare's patient send nothing
    testapp.reset()
    login(testapp, "dr.gare")
    csrf = testapp.get("/").html.find("input", {"name": "csrf_token"})["value"]
    response = testapp.post(f"{durand}/@@send-questionnaire",
                            {"csrf_token": csrf, "template": "questionnaire-medical",
                             "practitioner": "martin"}, status=303)
    assert api["other_professional"].get(f"{durand}/questionnaires").json[
        "items_total"] == 0
    # messaging (P3): Léa's message ids through another record's URL are unknown
    # there; Parc's reply template named by Gare's staff for Gare's patient
    lea_ids = [m["id"] for m in api["professional"].get(f"{LEROY}/@messages").json["items"]]
    schmit = f"{PARC}/patients/schmit"
    for message_id in lea_ids:
        for suffix in ("", "/attachment"):
            response = api["other_patient"].get(f"{schmit}/@messages/{message_id}{suffix}",
                                                status=404)
            assert "sensibilité" not in response.text
        api["professional"].post(f"{schmit}/@messages/{message_id}/file", {}, status=404)
    parc_template = api["professional"].get(f"{PARC}/@message-templates").json["items"][0]
    response = api["other_staff"].post(f"{durand}/@messages",
                                       {"template": parc_template["id"]}, status=422)
    assert parc_template["title"] not in response.text
    api["other_staff"].patch(f"/cabinets/gare/@message-templates/{parc_template['id']}",
                             {"title": "Volé"}, status=404)
    # URL: another person's reminder rule (issue #9, P7)
    rule = api["patient"].post("/@my-notifications", {"days_before": 3, "time": "09:00"},
                               status=201).json["rules"][0]["id"]
    for principal in ("other_patient", "guardian", "professional"):
        response = api[principal].delete(f"/@my-notifications/{rule}",
                                         expect_errors=True)
        assert response.status_int in (403, 404), (principal, response.status_int)
    assert api["patient"].get("/@my-notifications").json["rules"][0]["id"] == rule
