"""Who the request's user is, read in one query.

The query loads the user (by bearer token or by the session's user id) together with
*identity facts*: small per-user values other areas would otherwise each read with a
query of their own on every request (the user's group ids; whether they hold a
delegation in effect; whether they accepted the current terms of use ...). An area
declares a fact with ``config.add_identity_fact(name, factory)``; ``factory(user_id,
group_ids)`` returns a scalar SQL expression correlated to the user through
``user_id`` (``User.id``) and ``group_ids`` (a subquery of the user's group ids); it
may use the bind parameters ``:today`` and ``:now`` (the clock's). The values are in
``request.identity_facts[name]``.

A fact that only says whether a costly look-up can find anything ("may this user act
through a delegation at all?") must never be false when the look-up would find
something: it may only let the look-up be skipped.
"""
from sqlalchemy import String, bindparam, cast, select

from cabinet.interfaces import IClock
from cabinet.models import ApiToken, GroupMember, User, joined_text

FACTS = "identity_facts"
STATEMENTS = "identity_statements"


def _group_ids():
    return (select(GroupMember.group_id).where(GroupMember.user_id == User.id)
            .correlate(User).scalar_subquery())


def _group_ids_fact(user_id, group_ids):
    return (select(joined_text(cast(GroupMember.group_id, String), ","))
            .where(GroupMember.user_id == user_id).scalar_subquery())


def _statements(registry):
    """(by token, by user id), built once per application from the declared facts."""
    statements = registry.get(STATEMENTS)
    if statements is None:
        facts = registry.get(FACTS, {})
        columns = [factory(User.id, _group_ids()).label(name)
                   for name, factory in facts.items()]
        active = User.active.is_(True)
        by_token = (select(User, ApiToken.id, *columns)
                    .join(ApiToken, ApiToken.user_id == User.id)
                    .where(ApiToken.token_hash == bindparam("token_hash"),
                           ApiToken.revoked.is_(None), ApiToken.expires > bindparam("now"),
                           active))
        by_id = select(User, *columns).where(User.id == bindparam("user_id"), active)
        statements = registry[STATEMENTS] = (by_token, by_id, tuple(facts))
    return statements


def load_identity(request, token_hash=None, user_id=None):
    """The active user of ``token_hash`` (an unrevoked, unexpired token) or of
    ``user_id``, or None. Sets ``request.identity_facts`` and, for a token,
    ``request.api_token_id``."""
    by_token, by_id, names = _statements(request.registry)
    clock = request.registry.getUtility(IClock)
    now = clock.now()
    params = {"now": now, "today": clock.today()}
    if token_hash is not None:
        row = request.dbsession.execute(by_token, {**params, "token_hash": token_hash}).first()
        extra = 2
    else:
        row = request.dbsession.execute(by_id, {**params, "user_id": user_id}).first()
        extra = 1
    if row is None:
        return None
    user = row[0]
    if token_hash is not None:
        request.api_token_id = row[1]
    facts = dict(zip(names, row[extra:]))
    groups = facts.get("group_ids")
    # cabinet.security.group_ids() reads this instead of querying again
    user.__dict__["_group_ids"] = tuple(int(g) for g in groups.split(",")) if groups else ()
    request.identity_facts = facts
    return user


def identity_fact(request, name, default=True):
    """A fact about the signed-in user; ``default`` when it was not loaded (no user,
    or an identity not loaded by load_identity)."""
    if request.identity is None:
        return default
    facts = request.__dict__.get("identity_facts")
    if facts is None or name not in facts:
        return default
    return facts[name]


def add_identity_fact(config, name, factory):
    config.registry.setdefault(FACTS, {})[name] = factory
    config.registry.pop(STATEMENTS, None)


def includeme(config):
    config.add_directive("add_identity_fact", add_identity_fact)
    config.add_identity_fact("group_ids", _group_ids_fact)
