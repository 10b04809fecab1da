"""The colander schema every workflows/*.yaml file must satisfy."""
import colander

from cabinet.roles import PERMISSIONS, ROLES

NAME = colander.Regex(r"^[a-z][a-z0-9_]*$", "must be a lowercase identifier")


class DictOf(colander.SchemaType):
    """A mapping with free keys (validated by ``key_validator``) and typed values."""

    def __init__(self, value_node, key_validator=NAME):
        self.value_node = value_node
        self.key_validator = key_validator

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return {}
        if not isinstance(cstruct, dict):
            raise colander.Invalid(node, "must be a mapping")
        result, problems = {}, []
        for key, value in cstruct.items():
            child = self.value_node.clone()
            child.name = str(key)
            try:
                if not isinstance(key, str):  # YAML reads `1:` or `true:` as non-text
                    raise colander.Invalid(child, f"'{key}' is not a name")
                self.key_validator(child, key)
                result[key] = child.deserialize(value)
            except colander.Invalid as exc:
                problems.extend(f"{path}: {msg}" for path, msg in exc.asdict().items())
        if problems:
            raise colander.Invalid(node, "; ".join(problems))
        return result


def strings(validator=None, missing=()):
    """A list of strings, each checked by ``validator``."""
    return colander.SchemaNode(
        colander.Sequence(), colander.SchemaNode(colander.String(), validator=validator),
        missing=missing)


def role_key(node, value):
    if value not in ROLES:
        raise colander.Invalid(node, f"unknown role '{value}'")


def permission(node, value):
    if value not in PERMISSIONS:
        raise colander.Invalid(node, f"unknown permission '{value}'")


class StateSchema(colander.MappingSchema):
    title = colander.SchemaNode(colander.String())
    # strict: a typo (``final: ture``) must not silently make a state final
    final = colander.SchemaNode(
        colander.Boolean(false_choices=("false",), true_choices=("true",)), missing=False)
    grants = colander.SchemaNode(
        DictOf(strings(permission), key_validator=role_key), missing={})


class TransitionSchema(colander.MappingSchema):
    title = colander.SchemaNode(colander.String(), missing="")
    from_ = strings(NAME, missing=colander.required)
    from_.name = "from"
    to = colander.SchemaNode(colander.String(), validator=NAME)
    permission = colander.SchemaNode(colander.String(), validator=permission,
                                     missing=None)
    guards = strings(NAME)
    trigger = colander.SchemaNode(colander.String(),
                                  validator=colander.OneOf(["user", "automatic"]),
                                  missing="user")


class WorklistSchema(colander.MappingSchema):
    states = strings(NAME, missing=colander.required)
    permission = colander.SchemaNode(colander.String(), validator=permission)


class WorkflowSchema(colander.MappingSchema):
    name = colander.SchemaNode(colander.String(), validator=NAME)
    title = colander.SchemaNode(colander.String(), missing="")
    initial_state = colander.SchemaNode(colander.String(), validator=NAME)
    managed_permissions = strings(permission)
    states = colander.SchemaNode(DictOf(StateSchema()),
                                 validator=colander.Length(min=1))
    transitions = colander.SchemaNode(DictOf(TransitionSchema()), missing={})
    worklists = colander.SchemaNode(DictOf(WorklistSchema()), missing={})
