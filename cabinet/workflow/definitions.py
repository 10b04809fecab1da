"""Loading and checking workflow definitions; each state's ACL is computed once here."""
from dataclasses import dataclass, field
from pathlib import Path

import colander
import yaml
from pyramid.authorization import Allow, Authenticated, Deny, Everyone

from cabinet.roles import AUTHENTICATED
from .schema import WorkflowSchema


class WorkflowError(Exception):
    """A definition is broken; the message names the file, workflow and entry."""


def role_principal(role):
    return Authenticated if role == AUTHENTICATED else f"role:{role}"


@dataclass(frozen=True)
class State:
    name: str
    title: str
    final: bool
    grants: dict  # role -> frozenset of permissions


@dataclass(frozen=True)
class Transition:
    name: str
    title: str
    sources: tuple
    target: str
    permission: str | None
    guards: tuple
    automatic: bool


@dataclass
class Workflow:
    name: str
    title: str
    initial_state: str
    managed_permissions: frozenset
    states: dict
    transitions: dict
    worklists: dict
    source: str
    acls: dict = field(default_factory=dict)

    def __post_init__(self):
        for state in self.states.values():
            acl = [(Allow, role_principal(role), tuple(sorted(perms)))
                   for role, perms in sorted(state.grants.items())]
            if self.managed_permissions:
                acl.append((Deny, Everyone, tuple(sorted(self.managed_permissions))))
            self.acls[state.name] = tuple(acl)

    def roles_with(self, permission):
        """state -> roles that hold ``permission`` there (the search filter's input)."""
        return {name: frozenset(role for role, perms in state.grants.items()
                                if permission in perms)
                for name, state in self.states.items()}

    def transitions_from(self, state):
        return [t for t in self.transitions.values() if state in t.sources]


class WorkflowRegistry:
    """All workflow definitions, by name; resources ask it for their ACL."""

    def __init__(self, workflows):
        self.workflows = workflows

    def __getitem__(self, name):
        return self.workflows[name]

    def __iter__(self):
        return iter(self.workflows.values())

    def for_node(self, node):
        return self.workflows[node.workflow_name]

    def acl(self, node):
        workflow = self.workflows[node.workflow_name]
        try:
            return workflow.acls[node.state]
        except KeyError:  # an unknown state grants nothing
            return ((Deny, Everyone, tuple(sorted(workflow.managed_permissions))),)


# libyaml's parser when PyYAML was built with it: start-up reads 13 files
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_workflow(path, guard_names):
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise WorkflowError(f"{path}: cannot read workflow definition: {exc}") from exc
    name = data.get("name", path.stem) if isinstance(data, dict) else path.stem

    def fail(msg):
        raise WorkflowError(f"{path}: workflow '{name}': {msg}")

    try:
        appstruct = WorkflowSchema().deserialize(data)
    except colander.Invalid as exc:
        fail("; ".join(f"{k}: {v}" for k, v in exc.asdict().items()))

    states = {sname: State(sname, s["title"], s["final"],
                           {role: frozenset(perms) for role, perms in s["grants"].items()})
              for sname, s in appstruct["states"].items()}
    managed = frozenset(appstruct["managed_permissions"])
    if appstruct["initial_state"] not in states:
        fail(f"initial_state '{appstruct['initial_state']}' is not a state")
    for state in states.values():
        for role, perms in state.grants.items():
            unmanaged = perms - managed
            if unmanaged:
                fail(f"state '{state.name}' grants {sorted(unmanaged)} to '{role}' "
                     "but the workflow does not manage them")

    transitions = {}
    for tname, t in appstruct["transitions"].items():
        for source in t["from"]:
            if source not in states:
                fail(f"transition '{tname}': unknown source state '{source}'")
        if t["to"] not in states:
            fail(f"transition '{tname}': unknown target state '{t['to']}'")
        for guard in t["guards"]:
            if guard not in guard_names:
                fail(f"transition '{tname}': unknown guard '{guard}'")
        automatic = t["trigger"] == "automatic"
        if t["permission"] is None and not automatic:
            fail(f"transition '{tname}': a user transition needs a permission")
        transitions[tname] = Transition(tname, t["title"] or tname, tuple(t["from"]),
                                        t["to"], t["permission"], tuple(t["guards"]),
                                        automatic)

    for state in states.values():
        exits = [t for t in transitions.values() if state.name in t.sources]
        if state.final and exits:
            fail(f"state '{state.name}' is final but has transitions "
                 f"{sorted(t.name for t in exits)}")
        if not state.final and not exits:
            fail(f"state '{state.name}' is not final and has no transition out")

    reachable, todo = {appstruct["initial_state"]}, [appstruct["initial_state"]]
    while todo:
        current = todo.pop()
        for t in transitions.values():
            if current in t.sources and t.target not in reachable:
                reachable.add(t.target)
                todo.append(t.target)
    for sname in states:
        if sname not in reachable:
            fail(f"state '{sname}' is unreachable from '{appstruct['initial_state']}'")

    for wname, wl in appstruct["worklists"].items():
        for sname in wl["states"]:
            if sname not in states:
                fail(f"worklist '{wname}': unknown state '{sname}'")

    return Workflow(name=appstruct["name"], title=appstruct["title"] or name,
                    initial_state=appstruct["initial_state"], managed_permissions=managed,
                    states=states, transitions=transitions,
                    worklists=appstruct["worklists"], source=str(path))


def load_workflows(directory, guard_names, content_types):
    """Load every ``*.yaml`` of ``directory`` and check that each content type finds
    its workflow and that the workflow manages the type's view permission (so the
    search filter compiled from it agrees with the ACL)."""
    directory = Path(directory)
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise WorkflowError(f"{directory}: no workflow definitions (*.yaml) found")
    workflows = {}
    for path in files:
        workflow = load_workflow(path, guard_names)
        if workflow.name in workflows:
            raise WorkflowError(f"{path}: workflow '{workflow.name}' is defined twice "
                                f"(also in {workflows[workflow.name].source})")
        workflows[workflow.name] = workflow
    for cls in content_types:
        workflow = workflows.get(cls.workflow_name)
        if workflow is None:
            raise WorkflowError(f"{directory}: no workflow '{cls.workflow_name}' for "
                                f"type {cls.portal_type}")
        view = f"{cls.permission_prefix}:view"
        if cls.portal_type not in ("Folder",) and view not in workflow.managed_permissions:
            raise WorkflowError(f"{workflow.source}: workflow '{workflow.name}' must manage "
                                f"'{view}' for type {cls.portal_type}")
    return WorkflowRegistry(workflows)
