"""Workflow definitions: the shipped ones load, and a broken one stops start-up with
a message naming the file, the workflow and the faulty entry."""
import shutil
from pathlib import Path

import pytest
import yaml

from cabinet import main
from cabinet.models import CONTENT_TYPES
from cabinet.roles import PERMISSIONS, ROLES
from cabinet.workflow import WorkflowError, load_workflows
from cabinet.workflow.guards import GUARDS

SHIPPED = Path(__file__).resolve().parents[2] / "workflows"


def load(directory):
    return load_workflows(directory, GUARDS, CONTENT_TYPES.values())


@pytest.fixture
def workflows_dir(tmp_path):
    """A copy of the shipped definitions that a test may break."""
    directory = tmp_path / "workflows"
    shutil.copytree(SHIPPED, directory)
    return directory


def edit(directory, filename, change):
    path = directory / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def load_error(directory):
    with pytest.raises(WorkflowError) as info:
        load(directory)
    return str(info.value)


# -- the shipped definitions ----------------------------------------------------------

def test_every_shipped_workflow_loads():
    registry = load(SHIPPED)
    names = {workflow.name for workflow in registry}
    assert names == {path.stem for path in SHIPPED.glob("*.yaml")}
    assert {"document", "questionnaire", "delegation", "membership", "mandate"} <= names
    for cls in CONTENT_TYPES.values():
        assert registry[cls.workflow_name].name == cls.workflow_name


def test_shipped_workflows_have_the_states_of_the_design():
    registry = load(SHIPPED)
    expected = {
        "document": {"pending", "sent", "signed", "withdrawn"},
        "questionnaire": {"pending", "sent", "filled", "validated", "signed"},
        "delegation": {"invited", "active", "ended"},
        "membership": {"invited", "active", "ended"},
        "mandate": {"invited", "active", "ended"},
    }
    for name, states in expected.items():
        assert set(registry[name].states) == states, name
    assert registry["document"].states["signed"].final
    assert registry["document"].transitions["sign"].guards == (
        "signature_required", "one_time_code")
    assert registry["questionnaire"].transitions["fill"].guards == ("answers_complete",)
    expire = registry["delegation"].transitions["expire"]
    assert expire.automatic and expire.guards == ("past_end_date",)


def test_shipped_definitions_only_name_known_roles_permissions_and_guards():
    for workflow in load(SHIPPED):
        assert workflow.managed_permissions <= PERMISSIONS
        for state in workflow.states.values():
            assert set(state.grants) <= set(ROLES), (workflow.name, state.name)
            for perms in state.grants.values():
                assert perms <= workflow.managed_permissions, (workflow.name, state.name)
        for transition in workflow.transitions.values():
            assert set(transition.guards) <= set(GUARDS)
            assert transition.automatic or transition.permission in PERMISSIONS


def test_an_untouched_copy_loads(workflows_dir):
    """The broken-definition tests below start from this copy: it must be sound."""
    assert {w.name for w in load(workflows_dir)} == {w.name for w in load(SHIPPED)}


# -- broken definitions ---------------------------------------------------------------

def _add_state(data, name, state, exits=()):
    data["states"][name] = state
    for tname, transition in exits:
        data["transitions"][tname] = transition


BROKEN = [
    pytest.param(
        "document.yaml", "document",
        lambda d: d["states"]["sent"]["grants"].update(nurse=["document:view"]),
        ["sent", "nurse", "unknown role"], id="unknown-role-in-grants"),
    pytest.param(
        "questionnaire.yaml", "questionnaire",
        lambda d: d["states"]["filled"]["grants"]["patient"].append("questionnaire:approve"),
        ["filled", "patient", "unknown permission", "questionnaire:approve"],
        id="unknown-permission-in-grants"),
    pytest.param(
        "delegation.yaml", "delegation",
        lambda d: d["transitions"]["accept"].update(permission="delegation:approve"),
        ["accept", "unknown permission", "delegation:approve"],
        id="unknown-permission-of-transition"),
    pytest.param(
        "mandate.yaml", "mandate",
        lambda d: d["managed_permissions"].append("mandate:frobnicate"),
        ["managed_permissions", "unknown permission", "mandate:frobnicate"],
        id="unknown-managed-permission"),
    pytest.param(
        "mandate.yaml", "mandate",
        lambda d: d.setdefault("worklists", {}).update(
            to_review={"states": ["active"], "permission": "mandate:review"}),
        ["to_review", "unknown permission", "mandate:review"],
        id="unknown-permission-of-worklist"),
    pytest.param(
        "document.yaml", "document",
        lambda d: d["transitions"]["sign"]["guards"].append("full_moon"),
        ["sign", "unknown guard", "full_moon"], id="unknown-guard"),
    pytest.param(
        "questionnaire.yaml", "questionnaire",
        lambda d: d["transitions"]["validate"]["from"].append("draft"),
        ["validate", "unknown source state", "draft"], id="unknown-source-state"),
    pytest.param(
        "membership.yaml", "membership",
        lambda d: d["transitions"]["remove"].update(to="archived"),
        ["remove", "unknown target state", "archived"], id="unknown-target-state"),
    pytest.param(
        "document.yaml", "document",
        lambda d: _add_state(d, "archived", {"title": "Archivé", "grants": {}},
                             [("unarchive", {"from": ["archived"], "to": "pending",
                                             "permission": "document:send"})]),
        ["archived", "unreachable"], id="unreachable-state"),
    pytest.param(
        "delegation.yaml", "delegation",
        lambda d: d["transitions"].pop("accept"),
        ["active", "unreachable"], id="state-unreachable-once-its-only-way-in-is-gone"),
    pytest.param(
        "document.yaml", "document",
        lambda d: d["transitions"]["send"].update({"from": ["pending"]}),
        ["withdrawn", "not final", "no transition out"],
        id="non-final-state-without-exit"),
    pytest.param(
        "questionnaire.yaml", "questionnaire",
        lambda d: d["transitions"]["reopen"]["from"].append("signed"),
        ["signed", "final", "reopen"], id="final-state-with-exits"),
    pytest.param(
        "membership.yaml", "membership",
        lambda d: d["states"]["ended"].update(final=False),
        ["ended", "not final", "no transition out"], id="state-no-longer-final"),
    pytest.param(
        "document.yaml", "document",
        lambda d: d["states"]["sent"]["grants"]["shared_patient"].append("document:add"),
        ["sent", "shared_patient", "document:add", "does not manage"],
        id="granted-permission-not-managed"),
    pytest.param(
        "questionnaire.yaml", "questionnaire",
        lambda d: d["managed_permissions"].remove("questionnaire:sign"),
        ["validated", "questionnaire:sign", "does not manage"],
        id="permission-dropped-from-managed-but-still-granted"),
    pytest.param(
        "document.yaml", "document",
        lambda d: d.update(initial_state="draft"),
        ["initial_state", "draft"], id="unknown-initial-state"),
    pytest.param(
        "document.yaml", "document",
        lambda d: d["transitions"]["withdraw"].pop("permission"),
        ["withdraw", "permission"], id="user-transition-without-permission"),
    pytest.param(
        "questionnaire.yaml", "questionnaire",
        lambda d: d["worklists"]["to_fill"]["states"].append("lost"),
        ["to_fill", "unknown state", "lost"], id="worklist-with-unknown-state"),
    pytest.param(
        "document.yaml", "document",
        lambda d: d["states"].update({1: {"title": "Un", "final": True}}),
        ["states", "1"], id="state-name-not-text"),
    pytest.param(
        "document.yaml", "document",
        lambda d: d["states"]["withdrawn"].update(final="ture"),
        ["withdrawn", "final", "ture"], id="final-is-not-a-boolean"),
    pytest.param(
        "document.yaml", "document",
        lambda d: d["states"]["sent"].update(grants={"patient": "document:view"}),
        ["sent", "patient"], id="grants-not-a-list"),
]


@pytest.mark.parametrize("filename, workflow, change, fragments", BROKEN)
def test_broken_definition_names_file_workflow_and_entry(workflows_dir, filename, workflow,
                                                         change, fragments):
    path = edit(workflows_dir, filename, change)
    message = load_error(workflows_dir)
    assert str(path) in message
    assert f"workflow '{workflow}'" in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_unreadable_yaml_names_the_file(workflows_dir):
    path = workflows_dir / "mandate.yaml"
    path.write_text("name: mandate\nstates: [unclosed\n", encoding="utf-8")
    message = load_error(workflows_dir)
    assert str(path) in message and "cannot read" in message


def test_a_file_that_is_not_a_mapping_names_the_file(workflows_dir):
    path = workflows_dir / "mandate.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    message = load_error(workflows_dir)
    assert str(path) in message and "workflow 'mandate'" in message


def test_a_workflow_defined_twice_names_both_files(workflows_dir):
    copy = workflows_dir / "zz-document-copy.yaml"
    shutil.copy(workflows_dir / "document.yaml", copy)
    message = load_error(workflows_dir)
    assert str(copy) in message and str(workflows_dir / "document.yaml") in message
    assert "'document'" in message and "twice" in message


def test_a_missing_workflow_of_a_content_type_stops_start_up(workflows_dir):
    (workflows_dir / "patient.yaml").unlink()
    message = load_error(workflows_dir)
    assert "'patient'" in message and "Patient" in message


def test_a_workflow_must_manage_the_view_permission_of_its_type(workflows_dir):
    def drop_view(data):
        data["managed_permissions"].remove("mandate:view")
        for state in data["states"].values():
            for perms in state.get("grants", {}).values():
                if "mandate:view" in perms:
                    perms.remove("mandate:view")
    path = edit(workflows_dir, "mandate.yaml", drop_view)
    message = load_error(workflows_dir)
    assert str(path) in message and "'mandate'" in message and "mandate:view" in message


def test_an_empty_folder_stops_start_up(tmp_path):
    message = load_error(tmp_path)
    assert str(tmp_path) in message and "no workflow" in message


# -- start-up itself -----------------------------------------------------------------

def test_main_refuses_to_start_with_a_broken_definition(settings, workflows_dir):
    path = edit(workflows_dir, "document.yaml",
                lambda d: d["transitions"]["sign"]["guards"].append("full_moon"))
    with pytest.raises(WorkflowError) as info:
        main({}, **dict(settings, **{"cabinet.workflows": str(workflows_dir)}))
    message = str(info.value)
    assert str(path) in message and "'document'" in message and "full_moon" in message


def test_main_refuses_to_start_with_an_unreachable_state(settings, workflows_dir):
    path = edit(workflows_dir, "delegation.yaml", lambda d: d["transitions"].pop("accept"))
    with pytest.raises(WorkflowError) as info:
        main({}, **dict(settings, **{"cabinet.workflows": str(workflows_dir)}))
    assert str(path) in str(info.value) and "'active'" in str(info.value)


def test_main_refuses_to_start_without_the_workflows_setting(settings):
    broken = {k: v for k, v in settings.items() if k != "cabinet.workflows"}
    with pytest.raises(WorkflowError, match="cabinet.workflows"):
        main({}, **broken)


def test_main_starts_with_the_untouched_copy(app, settings, workflows_dir):
    application = main({}, **dict(settings, **{"cabinet.workflows": str(workflows_dir)}))
    assert {w.name for w in application.registry["workflows"]} == \
        {w.name for w in app.registry["workflows"]}


def test_main_refuses_states_in_the_database_the_definitions_do_not_know(
        app, db, settings):
    from cabinet.content import add_node
    from cabinet.scripts.demo import ensure_site
    with db() as request:
        root = ensure_site(request)
        document = add_node(request.dbsession, request.registry, root, "Document",
                            name="old", title="Old")
        document.state = "draft"
    with pytest.raises(WorkflowError) as info:
        main({}, **settings)
    message = str(info.value)
    assert "document" in message and "'draft'" in message
