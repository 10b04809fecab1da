"""The request class, built once at start-up.

Pyramid applies the methods and properties registered with ``add_request_method`` to
every request by creating a new subclass of the request's class for that request
(``InstancePropertyHelper.apply_properties``): a ``type()`` call per request, and a
fresh class on which every attribute look-up misses Python's type caches. Cabinet
builds that class once, when the application is made, and lets the router skip the
per-request step. ``add_request_method`` stays the one way an area extends the request.

The class also keeps ``application_url`` for the request's life: webob computes it
from the environ at every access, and a page reads it for each of its links.
"""
from pyramid.decorator import reify
from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.request import Request


class CabinetRequest(Request):
    application_url = reify(Request.application_url.fget)


def bake_request_extensions(app):
    """Give the router ``app`` one request class carrying the registered request
    methods and properties, instead of applying them to each request."""
    registry = app.registry
    extensions = registry.queryUtility(IRequestExtensions)
    base = registry.queryUtility(IRequestFactory, default=CabinetRequest)
    if base is Request:
        base = CabinetRequest
    attributes = {"__module__": __name__}
    if extensions is not None:
        attributes.update(extensions.methods)
        attributes.update(extensions.descriptors)
    app.request_factory = type(base.__name__, (base,), attributes)
    # the router applies the extensions only when it has some: they are in the class
    app.request_extensions = None
    return app
