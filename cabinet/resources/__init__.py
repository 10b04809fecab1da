"""Traversal. The tree's nodes are the resources (cabinet.models.nodes).

The root factory loads, in one query, every node whose materialised path is a prefix
of the requested path, each with the local roles granted on it (what the security
policy needs to decide on any of them); traversal then walks those without further
queries. A name whose path was asked for and not found is known not to exist (a view
name such as ``login``): traversal stops there without asking again. Only names past
MAX_DEPTH cost one query each, as Node.__getitem__ does.

The lineage query joins only the subtype tables of the types the path names. A
container holds one type under each folder name (``subfolders``: ``/cabinets/<c>/``
is a Cabinet, ``<c>/patients/<p>/`` a Patient), so the path says which types its
nodes are; joining every subtype table (the mapper's default) read 130 columns per
row, most of them empty, and on SQLite each column costs a release of the GIL, which
other threads turn into a hand-over. A node of another type than expected still
loads as its class, its own columns on first access (one query)."""
from sqlalchemy import bindparam, select
from sqlalchemy.orm import with_polymorphic

from cabinet.models import CONTENT_TYPES, Folder, Node, Site
from cabinet.security import local_roles_column, remember_local_roles

_LINEAGE = {}
#: ancestors loaded by the lineage query; deeper ones (deeper than any tree Cabinet
#: builds) are found by name, one query each, as Node.__getitem__ does
MAX_DEPTH = 16


def lineage_statement(depth, types=()):
    """The lineage query for ``depth`` paths whose content nodes are of ``types``,
    built once per (depth, types): a fixed list of bound parameters (not an
    "expanding" one) lets each request reuse the compiled SQL as is."""
    key = (depth, types)
    statement = _LINEAGE.get(key)
    if statement is None:
        # Site and Folder have no table of their own: naming them costs no join, and
        # spares the ORM the slower set-up of a class the query did not name
        entity = with_polymorphic(Node, [Site, Folder, *types])
        statement = _LINEAGE[key] = select(entity, local_roles_column()).where(
            Node.path.in_([bindparam(f"p{i}") for i in range(depth)]))
    return statement


def expected_types(paths):
    """The content types that ``paths`` (from candidate_paths) name, in order: below
    the site, a folder name then a node name, each folder holding the type its
    container's ``subfolders`` gives it. Stops at the first name that is no such
    folder."""
    types, container = [], CONTENT_TYPES["Site"]
    # (folder, node) pairs: a folder that no node follows names no type to load
    for folder_path, _node_path in zip(paths[1::2], paths[2::2]):
        folder = folder_path.rstrip("/").rsplit("/", 1)[-1]
        cls = CONTENT_TYPES.get(container.subfolders.get(folder))
        if cls is None:
            break
        types.append(cls)
        container = cls
    return tuple(dict.fromkeys(types))


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
    statement = lineage_statement(len(paths), expected_types(paths))
    for node, roles in request.dbsession.execute(
            statement, {f"p{i}": path for i, path in enumerate(paths)}):
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
