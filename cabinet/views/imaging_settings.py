"""The cabinet's imaging selection (issue #10, K3; cabinet.imaging): which (treatment
stage, image type) pairs its patients see, and its lists of stages and types.

- ``GET <cabinet>/@imaging-settings`` (JSON, on any resource inside the cabinet) and
  ``<cabinet>/@@imaging-settings`` (page): the cabinet's people (``cabinet:view``);
- ``PATCH <cabinet>/@imaging-settings`` {stages?, types?, shared?} and the page's form
  (``POST``): ``imaging:configure``. Other keys are ignored; a bad value answers 422
  naming each problem, and nothing changes.

The page shows one box per stage (a "section title": ticking it ticks every type of
the stage, unticking it unticks them) and one per (stage, type) pair; a second form
(``POST <cabinet>/@@imaging-lists``) renames, removes and adds stages and types."""
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from cabinet import errors
from cabinet.i18n import _, flash, N_
from cabinet.imaging import Lists, check_settings, lists_of, save_settings
from cabinet.interfaces import ICabinet, INode
from .base import cabinet_or_404, json_body, node_url


def settings_json(request, cabinet, lists=None):
    lists = lists or lists_of(request.dbsession, cabinet)
    return {"@id": node_url(request, cabinet.path) + "/@imaging-settings",
            "stages": [{"name": n, "title": t} for n, t in lists.stages],
            "types": [{"name": n, "title": t} for n, t in lists.types],
            "shared": [{"stage": s, "image_type": t} for s, t in sorted(lists.shared)],
            "can_edit": bool(request.has_permission("imaging:configure", cabinet))}


def get_settings(context, request):
    cabinet = cabinet_or_404(context)
    return settings_json(request, cabinet)


def patch_settings(context, request):
    cabinet = cabinet_or_404(context)
    if not request.has_permission("imaging:configure", cabinet):
        raise errors.forbidden(N_("Seul le cabinet choisit l'imagerie partagée."))
    lists = check_settings(request.dbsession, cabinet, json_body(request))
    save_settings(request, cabinet, lists)
    return settings_json(request, cabinet, lists)


# -- the page ----------------------------------------------------------------------------

def page(context, request, problems=None, status=200):
    request.response.status_int = status
    lists = lists_of(request.dbsession, context)
    return {"context": context, "lists": lists, "errors": problems or {},
            "url": node_url(request, context.path),
            "can_edit": bool(request.has_permission("imaging:configure", context))}


def form_selection(post, lists):
    """The pairs the form selects: a stage box that changed (ticked while not every
    type of it was shared, or unticked while every one was) selects or clears all
    its types; otherwise each pair's own box counts."""
    shared = set()
    types = [t for t, _title in lists.types]
    for stage, _title in lists.stages:
        everything = all((stage, t) in lists.shared for t in types)
        ticked = f"stage.{stage}" in post
        if ticked and not everything:
            shared.update((stage, t) for t in types)
        elif not ticked and everything:
            continue
        else:
            shared.update((stage, t) for t in types if f"share.{stage}.{t}" in post)
    return shared


def submit(context, request):
    current = lists_of(request.dbsession, context)
    shared = form_selection(request.POST, current)
    lists = check_settings(request.dbsession, context,
                           {"shared": [list(p) for p in sorted(shared)]})
    changed = save_settings(request, context, Lists(lists.stages, lists.types,
                                                    lists.shared))
    flash(request, _("Sélection de l'imagerie enregistrée.") if changed
          else _("Aucun changement."))
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@imaging-settings")


LIST_KEYS = ("stages", "types")


def form_lists(post, lists):
    """{"stages": [...], "types": [...]} from the lists' form: each entry renamed
    (``stages.<name>``), kept, or removed (``remove.stages.<name>``), and a new one
    (``stages.new``) at the end."""
    body = {}
    for key in LIST_KEYS:
        entries = []
        for name, title in getattr(lists, key):
            if f"remove.{key}.{name}" in post:
                continue
            entries.append({"name": name, "title": post.get(f"{key}.{name}", title)})
        new = (post.get(f"{key}.new") or "").strip()
        if new:
            entries.append({"title": new})
        body[key] = entries
    return body


def submit_lists(context, request):
    """POST <cabinet>/@@imaging-lists: the stages and types (the selection keeps the
    pairs of the entries kept); the page again with the problems (422)."""
    current = lists_of(request.dbsession, context)
    try:
        lists = check_settings(request.dbsession, context,
                               form_lists(request.POST, current))
    except errors.exc.HTTPUnprocessableEntity as exc:
        response = render_to_response("imaging_settings.jinja2", page(
            context, request, exc.extra.get("errors")), request=request)
        response.status_int = 422
        return response
    changed = save_settings(request, context, lists)
    flash(request, _("Étapes et types d'images enregistrés.") if changed
          else _("Aucun changement."))
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@imaging-settings")


def includeme(config):
    add = config.add_view
    add(get_settings, context=INode, name="@imaging-settings", request_method="GET",
        renderer="json", permission="cabinet:view")
    add(patch_settings, context=INode, name="@imaging-settings", request_method="PATCH",
        renderer="json", permission="cabinet:view")
    add(page, context=ICabinet, name="imaging-settings", request_method="GET",
        renderer="imaging_settings.jinja2", permission="cabinet:view")
    add(submit, context=ICabinet, name="imaging-settings", request_method="POST",
        permission="imaging:configure")
    add(submit_lists, context=ICabinet, name="imaging-lists", request_method="POST",
        permission="imaging:configure")
