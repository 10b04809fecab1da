"""The last administrator of a space, under concurrent requests, through a real
waitress server (S3).

The space has exactly two active administrators, dr.weber and dr.martin. At the same
instant, dr.weber removes (or demotes) dr.martin and dr.martin removes (or demotes)
dr.weber: each request alone would be fine, together they would leave the space
without an administrator. The administrators' memberships are locked while counting
(SELECT ... FOR UPDATE on PostgreSQL; the database write lock on SQLite), so exactly
one request succeeds and the other answers 409 with the reason (or 403 when it comes
after the winner's commit, its user no longer being an administrator); the space always
keeps one active administrator, and its local roles match the memberships.
Run on SQLite and on PostgreSQL (CABINET_TEST_DB=postgresql)."""
import pytest
from sqlalchemy import func, select, update

from cabinet.models import HistoryEntry, LocalRole, Membership, Node, User
from tests.live import login, race, request, serving

ROUNDS = 5
SPACE = "/spaces/sante-services"
WEBER = SPACE + "/members/weber"
MARTIN = SPACE + "/members/98765432109876543210"


def admins(engine):
    """(active admin membership paths, users holding space_admin on the space)."""
    with engine.connect() as conn:
        paths = set(conn.scalars(select(Membership.path).where(
            Membership.path.startswith(SPACE + "/members/"),
            Membership.state == "active", Membership.role == "space_admin")))
        space_id = conn.scalar(select(Node.id).where(Node.path == SPACE + "/"))
        principals = set(conn.scalars(select(LocalRole.principal).where(
            LocalRole.node_id == space_id, LocalRole.role == "space_admin")))
        logins = {login for login, user_id in conn.execute(select(User.login, User.id))
                  if f"user:{user_id}" in principals}
    return {p.rstrip("/") for p in paths}, logins


def reset(engine, weber_id, martin_id):
    """Both memberships active administrators again, with their local roles."""
    with engine.begin() as conn:
        space_id = conn.scalar(select(Node.id).where(Node.path == SPACE + "/"))
        ids = [conn.scalar(select(Node.id).where(Node.path == path + "/"))
               for path in (WEBER, MARTIN)]
        conn.execute(update(Node).where(Node.id.in_(ids)).values(state="active"))
        conn.execute(update(Membership).where(Membership.id.in_(ids))
                     .values(role="space_admin"))
        conn.execute(LocalRole.__table__.delete().where(LocalRole.node_id == space_id))
        for user_id in (weber_id, martin_id):
            conn.execute(LocalRole.__table__.insert().values(
                node_id=space_id, principal=f"user:{user_id}", role="space_admin"))
        conn.execute(HistoryEntry.__table__.delete().where(HistoryEntry.node_id.in_(ids)))


@pytest.fixture
def two_admins(demo):
    """dr.martin accepts his invitation as a second administrator, through the app."""
    with serving(demo) as address:
        weber = login(address, "dr.weber")
        martin = login(address, "dr.martin")
        status, body = request(address, "PATCH", MARTIN, {"role": "space_admin"}, weber)
        assert status == 200, body
        status, body = request(address, "POST", MARTIN + "/@accept", {}, martin)
        assert status == 200, body
        yield address, {"dr.weber": weber, "dr.martin": martin}


def user_ids(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(User.login, User.id).where(
            User.login.in_(["dr.weber", "dr.martin"]))).all())


def check(results, engine, expected_left):
    """One 200, one refusal; one administrator left, in memberships and local roles."""
    assert not [r for r in results if r[0] is None or r[0] >= 500], results
    statuses = sorted(status for status, _ in results)
    # the loser gets 409 (it waited for the lock, then counted one administrator) or,
    # when it arrived after the winner committed, 403: its user is no longer an
    # administrator. Never two successes.
    assert statuses in ([200, 409], [200, 403]), results
    for status, body in results:
        if status == 409:
            assert "au moins un administrateur actif" in body["message"], body
    paths, logins = admins(engine)
    assert len(paths) == 1 and len(logins) == 1, (paths, logins)
    assert paths <= expected_left
    return paths, logins


@pytest.mark.parametrize("kind", ["remove", "demote", "mixed"])
def test_two_admins_cannot_both_leave_at_once(two_admins, engine, kind):
    address, tokens = two_admins
    ids = user_ids(engine)
    assert admins(engine) == ({WEBER, MARTIN}, {"dr.weber", "dr.martin"})
    remove = lambda path: ("POST", path + "/@workflow/remove", {})  # noqa: E731
    demote = lambda path: ("PATCH", path, {"role": "space_member"})  # noqa: E731
    first, second = {"remove": (remove, remove), "demote": (demote, demote),
                     "mixed": (remove, demote)}[kind]
    calls = [(*first(MARTIN), tokens["dr.weber"]),      # weber acts on martin
             (*second(WEBER), tokens["dr.martin"])]     # martin acts on weber
    winners, refusals = set(), []
    for round_ in range(ROUNDS):
        reset(engine, ids["dr.weber"], ids["dr.martin"])
        results = race(address, calls)
        paths, logins = check(results, engine, {WEBER, MARTIN})
        # the survivor is the one whose own request lost
        survivor = "dr.weber" if results[0][0] == 200 else "dr.martin"
        assert logins == {survivor}, (round_, results, logins)
        assert paths == {WEBER if survivor == "dr.weber" else MARTIN}
        winners.add(survivor)
        refusals += [status for status, _ in results if status != 200]
    print(f"{kind}: survivors seen {sorted(winners)}, refusals {refusals}")


def test_each_removal_alone_succeeds(two_admins, engine):
    """The control: one request after the other, the first passes, the second is
    refused because it would now remove the last administrator."""
    address, tokens = two_admins
    status, body = request(address, "POST", MARTIN + "/@workflow/remove", {},
                           tokens["dr.weber"])
    assert status == 200, body
    status, body = request(address, "POST", WEBER + "/@workflow/remove", {},
                           tokens["dr.weber"])
    assert status == 409 and body["guard"] == "not_last_admin", body
    assert admins(engine) == ({WEBER}, {"dr.weber"})


def test_two_invitations_of_one_certificate_at_once(demo, engine):
    """The members folder is locked before the check (cabinet.locks): one invitation
    (201), the other 409; never two, never a 500."""
    certificate = "31415926535897932384"
    with serving(demo) as address:
        weber = login(address, "dr.weber")
        call = ("POST", SPACE + "/members", {"@type": "Membership", "role": "space_member",
                                             "certificate_serial": certificate}, weber)
        for round_ in range(ROUNDS):
            with engine.begin() as conn:
                conn.execute(Node.__table__.delete().where(Node.id.in_(
                    select(Membership.id).where(Membership.certificate == certificate))))
            results = race(address, [call, call])
            assert sorted(status for status, _ in results) == [201, 409], (round_, results)
            refused = next(body for status, body in results if status == 409)
            assert "déjà membre de l'espace ou invité" in refused["message"], refused
            with engine.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(Membership).where(
                    Membership.certificate == certificate)) == 1, round_
