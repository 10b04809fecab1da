"""Traversal. The tree's nodes are the resources (cabinet.models.nodes).

The root factory loads, in one query, every node whose materialised path is a prefix
of the requested path, each with the local roles granted on it (what the security
policy needs to decide on any of them); traversal then walks those without further
queries. A name whose path was asked for and not found is known not to exist (a view
name such as ``login``): traversal stops there without asking again. Only names past
MAX_DEPTH cost one query each, as Node.__getitem__ does."""
from sqlalchemy import bindparam, select

from cabinet.models import Node
from cabinet.security import local_roles_column, remember_local_roles

_LINEAGE = {}
#: ancestors loaded by the lineage query; deeper ones (deeper than any tree Cabinet
#: builds) are found by name, one query each, as Node.__getitem__ does
MAX_DEPTH = 16


def lineage_statement(depth):
    """The lineage query for ``depth`` paths, built once per depth: a fixed list of
    bound parameters (not an "expanding" one) lets each request reuse the compiled
    SQL as is."""
    statement = _LINEAGE.get(depth)
    if statement is None:
        statement = _LINEAGE[depth] = select(Node, local_roles_column()).where(
            Node.path.in_([bindparam(f"p{i}") for i in range(depth)]))
    return statement


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
    paths = candidate_paths(request.path_info)[:MAX_DEPTH]
    nodes = {}
    for node, roles in request.dbsession.execute(
            lineage_statement(len(paths)), {f"p{i}": path for i, path in enumerate(paths)}):
        nodes[node.path] = node
        remember_local_roles(request, node.id, roles)
    root = nodes.get("/")
    if root is None:
        raise RuntimeError("The database has no site root: run initialize_cabinet_db.")
    preloaded = Preloaded(nodes, paths)
    for node in nodes.values():
        node.__dict__["_preloaded"] = preloaded
    return root


class Preloaded(dict):
    """The nodes of the lineage query by path, and the paths it asked for."""
    __slots__ = ("asked",)

    def __init__(self, nodes, asked):
        super().__init__(nodes)
        self.asked = frozenset(asked)
