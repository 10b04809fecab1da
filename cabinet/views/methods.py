"""Which HTTP methods a resource answers, for a 405 with its Allow header.

Pyramid answers a request that finds views for its context and view name, none of
them for its method, with PredicateMismatch, a 404: a PUT on a document, a PATCH on a
folder read "there is nothing here" of a resource that is there. The views' methods
are read once from the configuration's introspector."""
from pyramid.exceptions import PredicateMismatch
from zope.interface.interface import InterfaceClass

INDEX = "cabinet.view_methods"
ANY = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _index(registry):
    """[(context, view name, methods, permission)] of the traversal views."""
    index = registry.get(INDEX)
    if index is None:
        index = []
        for entry in registry.introspector.get_category("views"):
            view = entry["introspectable"]
            if view["exception_only"] or view["route_name"] is not None:
                continue
            context = view["context"]
            if isinstance(context, type) and issubclass(context, BaseException):
                continue
            methods = view["request_methods"]
            methods = ANY if methods is None else frozenset(
                (methods,) if isinstance(methods, str) else methods)
            if "GET" in methods:
                methods |= {"HEAD"}
            permissions = [r.discriminator for r in entry["related"]
                           if r.category_name == "permissions"]
            index.append((context, view["name"], methods,
                          permissions[0] if permissions else None))
        registry[INDEX] = index
    return index


def _fits(context, resource):
    if context is None:
        return True
    if isinstance(context, InterfaceClass):
        return context.providedBy(resource)
    return isinstance(resource, context)


def allowed_methods(request):
    """The methods some view answers at the request's context and view name, when
    the user may read it there (a GET view's permission); else None: a resource the
    user may not read gets no more than a 404."""
    allowed, readable = set(), False
    for context, name, methods, permission in _index(request.registry):
        if name != request.view_name or not _fits(context, request.context):
            continue
        allowed |= methods
        if "GET" in methods and not readable:
            readable = permission is None or bool(
                request.has_permission(permission, request.context))
    return allowed if readable else None


def method_not_allowed(exc, request):
    """The methods to name in a 405 for ``exc``, or None (a plain 404)."""
    if not isinstance(exc, PredicateMismatch) or getattr(request, "context", None) is None:
        return None
    allowed = allowed_methods(request)
    if not allowed or request.method in allowed:
        return None        # another predicate did not match (accept, a state ...)
    return sorted(allowed)
