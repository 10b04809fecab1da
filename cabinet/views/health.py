"""``GET /@health`` for load balancers and monitoring (issue #6): 200 when the
database answers, 503 when it cannot be reached. A route of its own, with a context
that needs no database (the traversal root is read from the database), open to
anonymous callers, and saying nothing but the state of the service."""
import logging

from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


class HealthContext:
    """The route's context: no resource, no data."""

    def __init__(self, request):
        self.request = request


def database_answers(registry):
    try:
        with registry["db_engine"].connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.warning("health: the database does not answer (%s)",
                    type(getattr(exc, "orig", None) or exc).__name__)
        return False


def health(context, request):
    if database_answers(request.registry):
        return {"status": "ok", "database": "ok"}
    request.response.status_int = 503
    request.response.headers["Retry-After"] = "5"
    return {"status": "unavailable", "database": "unreachable"}


def includeme(config):
    config.add_route("health", "/@health", factory=HealthContext)
    config.add_view(health, route_name="health", request_method=("GET", "HEAD"),
                    renderer="json", permission=NO_PERMISSION_REQUIRED)
