"""Side effects that must happen only once the request's data is committed (a mail,
an SMS): never when the transaction aborts, and never twice when pyramid_retry runs
the request again."""
import transaction
from pyramid_retry import mark_error_retryable
from transaction.interfaces import NoTransaction


def current_transaction(request):
    """The request's active transaction, or None (scripts, the command line)."""
    tm = getattr(request, "tm", None)
    try:
        return tm.get() if tm is not None else None
    except NoTransaction:
        return None


def after_commit(request, action):
    """Run ``action()`` when the request's transaction commits; at once when no
    transaction is active (scripts, the command line)."""
    txn = current_transaction(request)
    if txn is None:
        return action()
    txn.addAfterCommitHook(lambda committed: committed and action())
    return None


class TransactionManager(transaction.TransactionManager):
    """The request's transaction manager (``tm.manager_hook``): explicit, like
    pyramid_tm's, and a commit that fails (a before-commit hook such as the audit
    trail's, a vote, the database's COMMIT) is aborted at once. pyramid_tm answers
    such a failure with an error page without aborting, which left the session's
    connection in its transaction, holding its locks (SQLite's write lock: every
    writer then waited its busy timeout) until the garbage collector came; and a
    retryable error at commit was answered, never retried."""

    def __init__(self):
        super().__init__(explicit=True)

    def commit(self):
        try:
            return super().commit()
        except Exception as exc:
            # asked before the abort forgets the data managers: a serialization
            # failure at commit is run again by pyramid_retry, as one in a view is
            try:
                retryable = self._retryable(type(exc), exc)
            except Exception:  # noqa: BLE001 - no transaction left to ask
                retryable = False
            if retryable:
                mark_error_retryable(exc)
            self.abort()
            raise


def transaction_manager(request):
    return TransactionManager()
