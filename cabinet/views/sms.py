"""``/dev-sms``: the last SMS sent, for the developer (development only).

Registered by cabinet.sms only while the file or memory gateway is active, never
with the production HTTP gateway (no decorators here: config.scan must not find it).
"""
from pyramid.security import NO_PERMISSION_REQUIRED

from cabinet.interfaces import ISite, ISmsGateway


def dev_sms_page(context, request):
    gateway = request.registry.getUtility(ISmsGateway)
    return {"messages": gateway.last(20), "path": getattr(gateway, "path", None)}


def includeme(config):
    config.add_view(dev_sms_page, context=ISite, name="dev-sms", request_method="GET",
                    renderer="dev_sms.jinja2", permission=NO_PERMISSION_REQUIRED)
