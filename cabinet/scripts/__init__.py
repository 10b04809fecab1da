"""Console scripts."""
from pyramid.request import Request, apply_request_extensions
from pyramid.threadlocal import manager


def script_request(registry, base_url="http://127.0.0.1:6543"):
    """A request usable outside a web call: ``request.tm``, ``request.dbsession``,
    the services. Use it as ``with request.tm: ...``."""
    request = Request.blank("/", base_url=base_url)
    request.registry = registry
    apply_request_extensions(request)
    manager.push({"registry": registry, "request": request})
    return request
