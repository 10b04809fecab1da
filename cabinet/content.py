"""Creating, naming and deleting resources of the tree."""
import re
import unicodedata

from sqlalchemy import select

from zope.interface import implementer

from cabinet.interfaces import IClock, IObjectAdded
from cabinet.labels import FOLDER_TITLES
from cabinet.models import CONTENT_TYPES, Folder, Node

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


def slugify(text):
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:80] or "item"


def valid_name(name):
    return bool(_NAME.match(name or ""))


def free_name(session, parent, wanted):
    """``wanted`` or ``wanted-2``, ``wanted-3``... not yet used under ``parent``."""
    taken = set(session.scalars(select(Node.name).where(
        Node.parent_id == parent.id, Node.name.like(f"{wanted}%"))))
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def add_node(session, registry, parent, portal_type, *, name=None, title="", owner=None,
             **fields):
    """Create a node of ``portal_type`` under ``parent`` in its workflow's initial
    state, with the folders its type holds (a patient gets documents/, ...)."""
    cls = CONTENT_TYPES[portal_type]
    workflows = registry["workflows"]
    now = registry.getUtility(IClock).now()
    if parent is not None and parent.id is not None:
        # Siblings are named one request at a time: two requests adding "Scan" to one
        # folder at the same instant would both pick "scan" (then a unique-index
        # violation, a 500). The parent's row is locked first (cabinet.locks), so the
        # second one waits, then sees the first's name and picks "scan-2".
        from cabinet.locks import lock_node
        lock_node(session, parent.id)
    if name is None:
        name = free_name(session, parent, slugify(title))
    parent_path = parent.path if parent is not None else ""
    node = cls(name=name, title=title, parent_id=parent.id if parent is not None else None,
               path=f"{parent_path}{name}/" if parent is not None else "/",
               state=workflows[cls.workflow_name].initial_state,
               owner_id=owner.id if owner is not None else None,
               created=now, modified=now, version=1, **fields)
    session.add(node)
    session.flush()
    node.__parent__ = parent
    for folder_name in cls.subfolders:
        add_node(session, registry, node, Folder.portal_type, name=folder_name,
                 title=FOLDER_TITLES.get(folder_name, folder_name.capitalize()))
    registry.notify(ObjectAdded(node, session, registry))
    return node


@implementer(IObjectAdded)
class ObjectAdded:
    def __init__(self, object, session, registry):
        self.object, self.session, self.registry = object, session, registry
