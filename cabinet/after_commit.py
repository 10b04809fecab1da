"""Side effects that must happen only once the request's data is committed (a mail,
an SMS): never when the transaction aborts, and never twice when pyramid_retry runs
the request again."""
from transaction.interfaces import NoTransaction


def after_commit(request, action):
    """Run ``action()`` when the request's transaction commits; at once when no
    transaction is active (scripts, the command line)."""
    tm = getattr(request, "tm", None)
    try:
        txn = tm.get() if tm is not None else None
    except NoTransaction:
        txn = None
    if txn is None:
        return action()
    txn.addAfterCommitHook(lambda committed: committed and action())
    return None
