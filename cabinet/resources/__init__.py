"""Traversal. The tree's nodes are the resources (cabinet.models.nodes).

The root factory loads, in one query, every node whose materialised path is a prefix
of the requested path; traversal then walks those without further queries (a name
that is not among them costs one query by name, as Node.__getitem__ does)."""
from sqlalchemy import select

from cabinet.models import Node


def candidate_paths(path_info):
    paths, current = ["/"], "/"
    for segment in path_info.split("/"):
        if not segment:
            continue
        if segment.startswith("@"):
            break
        current += segment + "/"
        paths.append(current)
    return paths


def get_root(request):
    nodes = {node.path: node for node in request.dbsession.scalars(
        select(Node).where(Node.path.in_(candidate_paths(request.path_info))))}
    root = nodes.get("/")
    if root is None:
        raise RuntimeError("The database has no site root: run initialize_cabinet_db.")
    for node in nodes.values():
        node.__dict__["_preloaded"] = nodes
    return root
