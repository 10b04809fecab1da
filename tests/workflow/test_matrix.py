"""The authorization matrix, generated from the workflow definitions.

For every workflow, state, grantable role and managed permission: a fresh user who
holds only that role, as a local role on the node itself or on an ancestor two levels
up, has the permission through the real security policy exactly when the YAML file
grants it to that role (or to every signed-in user) in that state. A user without
any role gets only what the definition gives to every signed-in user; an anonymous
visitor gets nothing.

The expectations are read from the raw YAML files, not from the loaded definitions,
so a loader that misreads the grants fails here too.
"""
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from pyramid.request import Request, apply_request_extensions
from pyramid.security import remember
from pyramid.threadlocal import manager

from cabinet import main
from cabinet.content import add_node
from cabinet.models import CONTENT_TYPES, LocalRole, Node, User
from cabinet.roles import AUTHENTICATED, GRANTABLE_ROLES
from cabinet.scripts.demo import ensure_site
from cabinet.workflow import load_workflows
from cabinet.workflow.guards import GUARDS
from tests.conftest import empty_tables

HERE = Path(__file__).resolve().parents[2]
WORKFLOWS = load_workflows(HERE / "workflows", GUARDS, CONTENT_TYPES.values())

#: workflow name -> a content type that uses it
TYPE_OF = {}
for _cls in CONTENT_TYPES.values():
    TYPE_OF.setdefault(_cls.workflow_name, _cls.portal_type)

#: fields some types need to be stored
REQUIRED = {"Delegation": lambda world: {"professional_id": world["professional_id"],
                                         "start_date": date(2026, 1, 1)}}

WHERE = ("local", "ancestor")


@lru_cache(maxsize=None)
def raw_definition(source):
    return yaml.safe_load(Path(source).read_text(encoding="utf-8"))


def raw_grants(workflow, state):
    """role -> set of permissions, read straight from the YAML file."""
    grants = raw_definition(workflow.source)["states"][state].get("grants") or {}
    return {role: set(perms) for role, perms in grants.items()}


def expected(workflow, state, role):
    grants = raw_grants(workflow, state)
    return grants.get(role, set()) | grants.get(AUTHENTICATED, set())


def cases():
    for workflow in sorted(WORKFLOWS, key=lambda w: w.name):
        for state in workflow.states:
            for role in GRANTABLE_ROLES:
                for permission in sorted(workflow.managed_permissions):
                    for where in WHERE:
                        yield pytest.param(
                            workflow.name, state, role, permission, where,
                            id=f"{workflow.name}-{state}-{role}-{permission}-{where}")


def states():
    for workflow in sorted(WORKFLOWS, key=lambda w: w.name):
        if workflow.managed_permissions:
            for state in workflow.states:
                yield pytest.param(workflow.name, state, id=f"{workflow.name}-{state}")


# -- the world: one node per workflow and state, one fresh user per role ---------------

@pytest.fixture(scope="module")
def matrix_app(engine, database_url):
    empty_tables(engine)
    application = main({}, **{
        "sqlalchemy.url": database_url,
        "cabinet.engine": engine,
        "cabinet.workflows": str(HERE / "workflows"),
        "cabinet.templates": str(HERE / "templates"),
        "cabinet.static": str(HERE / "static"),
        "cabinet.session_secret": "matrix-secret-" + "x" * 40,
        "cabinet.signing_key_secret": "matrix-signing-secret-" + "x" * 24,
        "cabinet.clock": "cabinet.services.clock.FixedClock",
        "cabinet.clock.at": "2026-03-10T09:00:00",
    })
    yield application
    empty_tables(engine)


@contextmanager
def request_as(registry, user_id=None, commit=False):
    """A request in its own transaction whose identity is ``user_id`` (signed in
    through the session, as after the login form) or anonymous. The transaction is
    rolled back unless ``commit``."""
    request = Request.blank("/", base_url="http://localhost")
    request.registry = registry
    apply_request_extensions(request)
    manager.push({"registry": registry, "request": request})
    request.tm.begin()
    if user_id is not None:
        remember(request, user_id)             # the session a login gives
    try:
        yield request
    except BaseException:
        request.tm.abort()
        raise
    else:
        if commit:
            request.tm.commit()
        else:
            request.tm.abort()
    finally:
        manager.pop()


@pytest.fixture(scope="module")
def world(matrix_app):
    """/matrix/<workflow>-<state>/box/item: ``item`` is a node of a type using the
    workflow, in that state. For each role, one fresh user holds it on ``item`` only
    (local) and another on ``<workflow>-<state>`` (ancestor)."""
    registry = matrix_app.registry
    world = {"nodes": {}, "users": {}}
    with request_as(registry, commit=True) as request:
        session = request.dbsession
        root = ensure_site(request)
        matrix = add_node(session, registry, root, "Folder", name="matrix", title="Matrix")
        owner = add_node(session, registry, matrix, "Professional", name="owner",
                         title="Owner of the delegations")
        world["professional_id"] = owner.id

        def user(login):
            account = User(login=login, fullname=login)
            session.add(account)
            session.flush()
            return account

        nobody = user("nobody")
        world["nobody"] = nobody.id
        for workflow in WORKFLOWS:
            if not workflow.managed_permissions:
                continue
            portal_type = TYPE_OF[workflow.name]
            fields = REQUIRED.get(portal_type, lambda w: {})(world)
            for state in workflow.states:
                holder = add_node(session, registry, matrix, "Folder",
                                  name=f"{workflow.name}-{state}")
                box = add_node(session, registry, holder, "Folder", name="box")
                item = add_node(session, registry, box, portal_type, name="item",
                                title=f"{workflow.name} {state}", **fields)
                item.state = state
                world["nodes"][workflow.name, state] = item.id
                for role in GRANTABLE_ROLES:
                    for where, node in (("local", item), ("ancestor", holder)):
                        account = user(f"{where}.{workflow.name}.{state}.{role}")
                        session.add(LocalRole(node_id=node.id, principal=account.principal,
                                              role=role))
                        world["users"][workflow.name, state, role, where] = account.id
    return world


def check(registry, user_id, node_id, permissions):
    """{permission: granted?} for that user on that node, through the security policy."""
    with request_as(registry, user_id) as request:
        if user_id is not None:
            assert request.identity is not None and request.identity.id == user_id
        else:
            assert request.identity is None
        node = request.dbsession.get(Node, node_id)
        return {permission: bool(request.has_permission(permission, node))
                for permission in permissions}


@pytest.fixture(scope="module")
def answers(matrix_app, world):
    """(workflow, state, role, where) -> {permission: granted?}, each computed on
    first use in one request for all the managed permissions (as a page does)."""
    cache = {}

    def answer(workflow_name, state, role, where):
        key = (workflow_name, state, role, where)
        if key not in cache:
            cache[key] = check(matrix_app.registry, world["users"][key],
                               world["nodes"][workflow_name, state],
                               sorted(WORKFLOWS[workflow_name].managed_permissions))
        return cache[key]
    return answer


# -- the matrix -----------------------------------------------------------------------

@pytest.mark.parametrize("workflow_name, state, role, permission, where", list(cases()))
def test_role_has_permission_exactly_when_the_definition_says(
        answers, workflow_name, state, role, permission, where):
    workflow = WORKFLOWS[workflow_name]
    granted = answers(workflow_name, state, role, where)[permission]
    should = permission in expected(workflow, state, role)
    assert granted == should, (
        f"{role} ({where}) on a {TYPE_OF[workflow_name]} in state '{state}': "
        f"'{permission}' is {'granted' if granted else 'refused'}, but "
        f"{workflow.source} says it should be {'granted' if should else 'refused'}")


@pytest.mark.parametrize("workflow_name, state", list(states()))
def test_a_user_without_role_gets_only_what_every_signed_in_user_gets(
        matrix_app, world, workflow_name, state):
    workflow = WORKFLOWS[workflow_name]
    result = check(matrix_app.registry, world["nobody"], world["nodes"][workflow_name, state],
                   sorted(workflow.managed_permissions))
    for_everyone = raw_grants(workflow, state).get(AUTHENTICATED, set())
    assert {p for p, ok in result.items() if ok} == for_everyone


@pytest.mark.parametrize("workflow_name, state", list(states()))
def test_anonymous_gets_nothing(matrix_app, world, workflow_name, state):
    workflow = WORKFLOWS[workflow_name]
    result = check(matrix_app.registry, None, world["nodes"][workflow_name, state],
                   sorted(workflow.managed_permissions))
    assert not any(result.values()), result


def test_the_matrix_covers_every_workflow_with_permissions():
    covered = {p.values[0] for p in cases()}
    assert covered == {w.name for w in WORKFLOWS if w.managed_permissions}
    assert {"document", "questionnaire", "delegation", "membership", "mandate"} <= covered
    # and it is not vacuous: some checks expect a grant, most expect a refusal
    outcomes = {p.values[3] in expected(WORKFLOWS[p.values[0]], p.values[1], p.values[2])
                for p in cases()}
    assert outcomes == {True, False}
