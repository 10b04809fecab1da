"""Traversal. The tree's nodes are the resources (cabinet.models.nodes); this module
finds the root, one query, and each traversal step is one more query by name."""
from sqlalchemy import select

from cabinet.models import Node


def get_root(request):
    root = request.dbsession.scalar(select(Node).where(Node.parent_id.is_(None)))
    if root is None:
        raise RuntimeError("The database has no site root: run initialize_cabinet_db.")
    return root
