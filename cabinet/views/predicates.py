"""View predicates shared by the feature views."""
import json


class HoldsTypePredicate:
    """``holds_type="Membership"``: the context is the folder that holds that type or,
    for a POST whose JSON body names it as ``@type``, a resource with such a folder.

    A type whose creation or listing needs more than the generic content views
    (validation across fields, a code shown once, an invitation mail) registers its
    views with this predicate; being more specific, they are chosen over the generic
    ones for that folder only."""

    def __init__(self, value, config):
        self.value = value

    def text(self):
        return f"holds_type = {self.value}"

    phash = text

    def __call__(self, context, request):
        if getattr(context, "portal_type", None) == "Folder":
            return getattr(context, "addable_type", None) == self.value
        if (request.method != "POST" or not request.body
                or self.value not in getattr(context, "subfolders", {}).values()):
            return False
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False
        return isinstance(body, dict) and body.get("@type") == self.value


def includeme(config):
    config.add_view_predicate("holds_type", HoldsTypePredicate)
