"""``@workflow`` (state and transitions, firing one) and ``@history``, with the HTML
form the pages post to."""
from pyramid.httpexceptions import HTTPSeeOther

from cabinet import errors
from cabinet.i18n import _, flash
from cabinet.models import CONTENT_TYPES
from cabinet.workflow import fire
from .base import isoformat, json_body, node_url, workflow_info
from .content import history_rows, type_interface


def get_workflow(context, request):
    info = workflow_info(request, context)
    info["@id"] = node_url(request, context.path) + "/@workflow"
    info["history"] = [h for h in history_rows(request, context)
                       if h["action"] == "transition"] \
        if request.has_permission("history:view", context) else []
    return info


def post_workflow(context, request):
    if len(request.subpath) != 1:
        raise errors.not_found("POST <path>/@workflow/<transition>.")
    body = json_body(request)
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > 5000:
        raise errors.unprocessable("'comment' must be a text of at most 5000 characters.")
    entry = fire(request, context, request.subpath[0], comment=comment)
    return {"action": request.subpath[0], "review_state": context.state,
            "actor": request.identity.login, "time": isoformat(entry.when),
            "comments": comment, **{"transitions": workflow_info(request, context)["transitions"]}}


def post_workflow_form(context, request):
    """The page's transition buttons post here, then go back to the page."""
    name = request.POST.get("transition", "")
    comment = request.POST.get("comment", "")[:5000]
    fire(request, context, name, comment=comment)
    state = request.workflows.for_node(context).states[context.state]
    flash(request, _("« ${title} » : ${state}", mapping={"title": context.title,
                                                    "state": _(state.title)}))
    return HTTPSeeOther(location=node_url(request, context.path))


def get_history(context, request):
    return history_rows(request, context)


def includeme(config):
    for cls in CONTENT_TYPES.values():
        iface = type_interface(cls)
        view = f"{cls.permission_prefix}:view"
        config.add_view(get_workflow, context=iface, name="@workflow", request_method="GET",
                        renderer="json", permission=view)
        config.add_view(post_workflow, context=iface, name="@workflow",
                        request_method="POST", renderer="json", permission=view)
        config.add_view(post_workflow_form, context=iface, name="workflow",
                        request_method="POST", permission=view)
        config.add_view(get_history, context=iface, name="@history", request_method="GET",
                        renderer="json", permission="history:view")
