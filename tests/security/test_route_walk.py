"""A walk over every view Pyramid has registered (its introspector), as an anonymous
visitor: only the allow-list below answers; everything else sends the visitor to the
login page (pages) or answers 401 (JSON), and says nothing of the resource.

A view registered without a permission fails here, and so does a new view that
answers anonymous visitors without being added to the allow-list with its reason."""
from pyramid.interfaces import IExceptionResponse
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from cabinet.models import CONTENT_TYPES, Node
from cabinet.scripts import script_request

#: (view name or route name, request method) -> why anonymous visitors may use it
ALLOWED_ANONYMOUS = {
    ("login", "GET"): "the login form",
    ("login", "POST"): "logging in",
    ("@login", "POST"): "logging in (JSON)",
    ("@logout", "POST"): "logging out ends whatever session there is",
    ("logout", "POST"): "logging out (the page's button)",
    ("@openapi.json", "GET"): "the API description holds no data",
    ("invitation", "GET"): "a secretary's invitation link (its single-use token is the key)",
    ("invitation", "POST"): "creating the account of an invitation (same token)",
    ("__static/", "GET"): "static files",
    ("patient", "GET"): "the patient login pages (/patient/login, /patient/code)",
    ("patient", "POST"): "patient login: identification, then the SMS code (CSRF checked)",
    ("@patient-login", "POST"): "patient login (JSON): identification, code, resend",
    ("health", "GET"): "/@health: whether the database answers, nothing else",
    ("health", "HEAD"): "/@health, headers only",
    ("dev-sms", "GET"): "the last SMS sent, for the developer: registered only with the "
                        "development (file, memory) gateways, never in production",
    ("language", "GET"): "@@language: the page language chosen (a cookie, no session, no "
                         "data), then back to a local path (cabinet/i18n.py)",
    ("@language", "GET"): "/@language: the language of the answers and the three "
                          "available (the user's choice only to the signed-in user)",
    ("calendar_feed", "GET"): "/@calendar/<token>.ics, a private calendar feed: the route's "
                              "factory finds the feed by its secret token (404 otherwise), "
                              "whose ACL grants calendar:read to Everyone; no health data",
    ("payment_callback", "POST"): "/@payment-callback, the payment provider's server calls it "
                                  "without a session: its HMAC signature (400 otherwise, "
                                  "nothing changed) is the credential (issue #9, P2)",
}


def registered_views(registry):
    """(introspectable, permissions) of every view but the exception views."""
    views = []
    for entry in registry.introspector.get_category("views"):
        view = entry["introspectable"]
        context = view["context"]
        if context is IExceptionResponse or (
                isinstance(context, type) and issubclass(context, BaseException)):
            continue
        permissions = [r.discriminator for r in entry["related"]
                       if r.category_name == "permissions"]
        views.append((view, permissions))
    return views


def view_key(view):
    return view["route_name"] or view["name"] or ""


def methods(view):
    declared = view["request_methods"]
    if declared is None:
        return ("GET",)
    return (declared,) if isinstance(declared, str) else tuple(declared)


def test_every_view_has_a_permission(app):
    missing = [f"{view['context']} {view_key(view)!r} {methods(view)}"
               for view, permissions in registered_views(app.registry) if not permissions]
    assert not missing, "views registered without a permission:\n" + "\n".join(missing)


def test_views_open_to_anonymous_visitors_are_the_allow_list(app):
    open_views = {(view_key(view), method)
                  for view, permissions in registered_views(app.registry)
                  if NO_PERMISSION_REQUIRED in permissions for method in methods(view)}
    unexpected = open_views - set(ALLOWED_ANONYMOUS)
    assert not unexpected, (
        "views answering anonymous visitors, not in the allow-list (add them with the "
        f"reason, or give them a permission): {sorted(unexpected)}")


def candidate_paths(session, context):
    """Paths of demo resources providing ``context``, one per (type, name), so that a
    view with a predicate on the kind of folder finds one it answers on."""
    paths = []
    for cls in CONTENT_TYPES.values():
        provided = context.implementedBy(cls) if hasattr(context, "implementedBy") \
            else isinstance(context, type) and issubclass(cls, context)
        if not provided:
            continue
        identity = cls.__mapper__.polymorphic_identity
        seen = set()
        for path, name in session.execute(
                select(Node.path, Node.name).where(Node.type == identity)
                .order_by(Node.path)):
            if name not in seen:
                seen.add(name)
                paths.append(path)
    return paths


def anonymous_cases(app):
    request = script_request(app.registry)
    cases = []
    with request.tm:
        session = request.dbsession
        titles = dict(session.execute(select(Node.path, Node.title)).all())
        for view, permissions in registered_views(app.registry):
            if NO_PERMISSION_REQUIRED in permissions:
                continue
            for method in methods(view):
                if (view_key(view), method) in ALLOWED_ANONYMOUS:
                    continue        # open by a token in its URL (the feed)
                if view["route_name"]:
                    route = app.registry.introspector.get("routes", view["route_name"])
                    cases.append((view, method, [(route["pattern"], None)]))
                    continue
                name = view["name"]
                cases.append((view, method, [
                    ((path.rstrip("/") + (f"/{name}" if name else "")) or "/", path)
                    for path in candidate_paths(session, view["context"])]))
    return cases, titles


def test_anonymous_visitors_are_refused_everywhere_else(demo, testapp):
    cases, titles = anonymous_cases(demo)
    unreached, checked = [], 0
    for view, method, targets, accept in (
            (view, method, targets, accept) for view, method, targets in cases
            for accept in ([str(view["accept"])] if view["accept"]
                           else ["text/html", "application/json"])):
        for url, resource in targets:
            response = testapp.request(url, method=method, headers={"Accept": accept},
                                       expect_errors=True)
            if response.status_int == 404:
                continue        # a predicate (kind of folder, ...) did not match here
            where = f"{method} {url} ({view_key(view)!r}, {accept})"
            api = "json" in accept or any(seg.startswith("@") and not seg.startswith("@@")
                                          for seg in url.split("/"))
            if api:
                assert response.status_int == 401, where
                assert response.json["type"] == "Unauthorized", where
            else:
                assert response.status_int in (302, 303), where
                assert "/login?came_from=" in response.location, where
            title = titles.get(resource)
            if title and resource != "/":
                assert title not in response.text, f"{where} shows the resource's title"
            checked += 1
            break
        else:
            unreached.append(f"{view['context']} {view_key(view)!r} {method}: "
                             f"{[url for url, _ in targets[:3]]}")
    assert not unreached, ("views the walk could not reach (no demo resource matched "
                           "their predicates):\n" + "\n".join(unreached))
    assert checked > 2 * 100
