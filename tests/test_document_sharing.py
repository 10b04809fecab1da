"""Who sees a document (C2): the type's default, the patient's override, the
document's override, the cabinet's "share only signed documents" switch and the
patient's GDPR opt-out, for the patient, a guardian and a correspondent of the
record, checked through the per-object permission check and through @search (the
SQL filter) against an oracle written from the rules."""
import itertools
import secrets
from datetime import timedelta

import pytest
from pyramid.security import remember
from pyramid.threadlocal import manager
from sqlalchemy import select

from cabinet.content import add_node
from cabinet.interfaces import IClock
from cabinet.models import (
    ApiToken, CabinetDocumentSettings, DocumentType, LocalRole, Node, PatientSharing, User,
)
from cabinet.scripts import script_request
from cabinet.scripts.demo import ensure_site
from cabinet.security import token_hash
from tests.conftest import Api

AUDIENCES = ("patient", "guardian", "correspondent")
#: two types whose defaults differ per audience, so each audience meets both values
TYPE_DEFAULTS = {"a": {"patient": True, "guardian": False, "correspondent": True},
                 "b": {"patient": False, "guardian": True, "correspondent": False}}
OVERRIDES = (None, True, False)
#: (state, needs_signature): shared without signature, to sign, signed
KINDS = (("sent", False), ("sent", True), ("signed", True))
SWITCHES = (False, True)
OPT_OUTS = (False, True)


def expected(audience, doc_type, patient_override, doc_override, only_signed, opt_out,
             state, needs_signature):
    """The rules, written independently of cabinet.document_sharing."""
    if opt_out:
        return False
    if only_signed and not (state == "signed" or needs_signature):
        return False
    for value in (doc_override, patient_override):
        if value is not None:
            return value
    return TYPE_DEFAULTS[doc_type][audience]


def _short(value):
    return {None: "n", True: "y", False: "x"}[value]


@pytest.fixture
def world(app, engine):
    """Two cabinets (switch off / on), each with six patients (patient override
    none / share / hide, times opt-out off / on), each with 18 documents (type a / b,
    document override none / share / hide, the three kinds). Every patient record
    has its own patient, guardian and correspondent users."""
    request = script_request(app.registry)
    cases, tokens = {}, {}
    try:
        with request.tm:
            session, registry = request.dbsession, request.registry
            now = registry.getUtility(IClock).now()
            root = ensure_site(request)
            for c, only_signed in enumerate(SWITCHES):
                cabinet = add_node(session, registry, root["cabinets"], "Cabinet",
                                   name=f"c{c}", title=f"Cabinet {c}")
                session.add(CabinetDocumentSettings(cabinet_id=cabinet.id,
                                                    only_signed=only_signed))
                types = {}
                for name, defaults in TYPE_DEFAULTS.items():
                    types[name] = DocumentType(cabinet_id=cabinet.id, name=name, title=name,
                                               **{f"share_{a}": v for a, v in defaults.items()})
                    session.add(types[name])
                session.flush()
                for override, opt_out in itertools.product(OVERRIDES, OPT_OUTS):
                    pname = f"p{_short(override)}{int(opt_out)}"
                    patient = add_node(session, registry, cabinet["patients"], "Patient",
                                       name=pname, title=pname)
                    session.add(PatientSharing(
                        patient_id=patient.id, opt_out=opt_out,
                        **{f"share_{a}": override for a in AUDIENCES}))
                    for audience in AUDIENCES:
                        user = User(login=f"{audience}.c{c}.{pname}", fullname=audience)
                        session.add(user)
                        session.flush()
                        session.add(LocalRole(node_id=patient.id, principal=user.principal,
                                              role=audience))
                        token = secrets.token_urlsafe(16)
                        session.add(ApiToken(user_id=user.id, token_hash=token_hash(token),
                                             created=now, expires=now + timedelta(days=1)))
                        tokens[audience, c, pname] = (user.id, token)
                    for doc_type, doc_override, (state, sign) in itertools.product(
                            TYPE_DEFAULTS, OVERRIDES, KINDS):
                        dname = f"{doc_type}-{_short(doc_override)}-{state}-{int(sign)}"
                        doc = add_node(session, registry, patient["documents"], "Document",
                                       name=dname, title=dname, needs_signature=sign,
                                       document_type_id=types[doc_type].id,
                                       **{f"share_{a}": doc_override for a in AUDIENCES})
                        doc.state = state
                        cases[doc.path] = (c, pname, doc_type, override, doc_override,
                                           only_signed, opt_out, state, sign)
    finally:
        manager.pop()
    return {"cases": cases, "tokens": tokens}


def expected_paths(world, audience, c, pname):
    return {path for path, (cc, pp, doc_type, p_override, d_override, only_signed,
                            opt_out, state, sign) in world["cases"].items()
            if cc == c and pp == pname
            and expected(audience, doc_type, p_override, d_override, only_signed, opt_out,
                         state, sign)}


def acl_paths(app, user_id):
    request = script_request(app.registry)
    try:
        with request.tm:
            remember(request, user_id)         # the session a login gives
            nodes = {n.id: n for n in request.dbsession.scalars(select(Node))}
            for node in nodes.values():
                node.__parent__ = nodes.get(node.parent_id)
            return {n.path for n in nodes.values() if n.portal_type == "Document"
                    and request.has_permission("document:view", n)}
    finally:
        manager.pop()


def search_paths(testapp, token):
    response = Api(testapp, token).get("/@search?portal_type=Document&b_size=500")
    assert response.json["items_total"] < 500
    return {item["@id"].removeprefix("http://localhost") + "/"
            for item in response.json["items"]}


def test_the_world_covers_every_combination(world):
    combos = {(case[2], case[3], case[4], case[5], case[6], case[7], case[8])
              for case in world["cases"].values()}
    assert len(combos) == 2 * 3 * 3 * 2 * 2 * 3
    # and it is not vacuous: each audience sees some documents and not others
    for audience in AUDIENCES:
        seen = {expected(audience, *combo) for combo in combos}
        assert seen == {True, False}


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("c", [0, 1], ids=["switch-off", "only-signed"])
def test_sharing_matrix(world, app, testapp, audience, c):
    for override, opt_out in itertools.product(OVERRIDES, OPT_OUTS):
        pname = f"p{_short(override)}{int(opt_out)}"
        user_id, token = world["tokens"][audience, c, pname]
        want = expected_paths(world, audience, c, pname)
        assert acl_paths(app, user_id) == want, (audience, c, pname)
        assert search_paths(testapp, token) == want, (audience, c, pname)
        if opt_out:
            assert want == set()


def test_a_patient_never_sees_another_patients_document(world, testapp):
    """Someone else's document in the URL: 404, as a document that does not exist."""
    _user_id, token = world["tokens"]["patient", 0, "pn0"]
    client = Api(testapp, token)
    other = "/cabinets/c0/patients/py0/documents/a-y-sent-0"
    assert client.get(other, expect_errors=True).status_int in (403, 404)
    download = client.get(other + "/@@download", expect_errors=True)
    missing = client.get("/cabinets/c0/patients/py0/documents/nope/@@download",
                         expect_errors=True)
    assert download.status_int == missing.status_int == 404
    assert download.json["type"] == missing.json["type"] == "NotFound"
