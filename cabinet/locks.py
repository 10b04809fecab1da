"""One row lock that works the same on SQLite and PostgreSQL.

Rules such as "one live delegation per professional and person", "one live holder code
per mandant and domain" or "an invitation link is used once" span several rows (or a
table the state column does not live in: a node's state is in ``nodes``, its other
columns in the type's table), so a unique partial index cannot express them. Instead,
the request that is about to check such a rule first locks one row that every
competing request must lock too (the professional, the mandates folder, the
delegation), then reads, then writes. The second request waits at the lock until the
first has committed, and its reads then see what the first wrote: it refuses (409) or
supersedes, never duplicates.

- PostgreSQL: ``SELECT ... FOR UPDATE`` on the node's row. Under READ COMMITTED (the
  default) each later statement of the waiting transaction sees the rows the winner
  committed. (Under REPEATABLE READ the waiter gets a serialization failure instead,
  and pyramid_retry runs the request again.)
- SQLite has no row locks: a no-op ``UPDATE`` of the node takes the database's write
  lock. pysqlite opens the transaction only at that first write (earlier reads run
  outside any transaction), so the snapshot of every later read is taken after the
  winner's commit. The waiting is SQLite's busy timeout (cabinet.models.meta).

Lock before reading what the rule depends on, and lock the same row in every code path
that can break the rule.
"""
from sqlalchemy import select, update

from cabinet.models import Node


def lock_node(session, node_id):
    """Lock the row of node ``node_id`` until the end of the transaction."""
    nodes = Node.__table__      # the table alone: no polymorphic outer joins to lock
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(nodes).where(nodes.c.id == node_id)
                        .values(version=nodes.c.version))
    else:
        session.execute(select(nodes.c.id).where(nodes.c.id == node_id).with_for_update())


def lock_unchanged(session, node):
    """Lock ``node``'s row (lock_node), then read its state again: the state it has
    now when another request changed it since this one read it (traversal and the
    permission check saw the old one), else None. A view that changes a node in
    place calls it first, so that an edit racing a transition (a title changed as
    the document gets signed) is refused rather than applied to the new state."""
    lock_node(session, node.id)
    nodes = Node.__table__
    state = session.scalar(select(nodes.c.state).where(nodes.c.id == node.id))
    return state if state != node.state else None
