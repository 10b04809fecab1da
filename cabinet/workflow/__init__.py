"""The workflow engine: definitions from workflows/*.yaml, checked at start-up."""
from sqlalchemy import inspect, select

from cabinet.models import CONTENT_TYPES, Node
from .definitions import WorkflowError, WorkflowRegistry, load_workflows  # noqa: F401
from .engine import available_transitions, fire, record_history  # noqa: F401
from .guards import GUARDS


def check_database_states(engine, workflows):
    """Refuse to start when the database holds states the definitions do not know
    (a renamed state needs an alembic data migration first)."""
    if not inspect(engine).has_table("nodes"):
        return  # not migrated yet: initialize_cabinet_db is about to do it
    identities = {cls.__mapper__.polymorphic_identity: cls for cls in CONTENT_TYPES.values()}
    with engine.connect() as conn:
        pairs = conn.execute(select(Node.type, Node.state).distinct()).all()
    for node_type, state in pairs:
        cls = identities.get(node_type)
        if cls is None:
            raise WorkflowError(f"the database holds nodes of unknown type '{node_type}'")
        workflow = workflows[cls.workflow_name]
        if state not in workflow.states:
            raise WorkflowError(
                f"{workflow.source}: workflow '{workflow.name}': the database holds "
                f"{cls.portal_type} nodes in state '{state}', which the definition does "
                "not know; migrate the data (alembic) before starting")


def includeme(config):
    settings = config.get_settings()
    directory = settings.get("cabinet.workflows")
    if not directory:
        raise WorkflowError("setting 'cabinet.workflows' (the workflows/ folder) is missing")
    registry = load_workflows(directory, GUARDS, CONTENT_TYPES.values())
    check_database_states(config.registry["db_engine"], registry)
    config.registry["workflows"] = registry
    Node.workflows = registry
    config.add_request_method(lambda request: request.registry["workflows"],
                              "workflows", reify=True)
