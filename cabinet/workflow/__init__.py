"""The workflow engine: definitions from workflows/*.yaml, checked at start-up."""
from cabinet.models import CONTENT_TYPES, Node
from .definitions import WorkflowError, WorkflowRegistry, load_workflows  # noqa: F401
from .engine import available_transitions, fire, record_history  # noqa: F401
from .guards import GUARDS


def includeme(config):
    settings = config.get_settings()
    directory = settings.get("cabinet.workflows")
    if not directory:
        raise WorkflowError("setting 'cabinet.workflows' (the workflows/ folder) is missing")
    registry = load_workflows(directory, GUARDS, CONTENT_TYPES.values())
    config.registry["workflows"] = registry
    Node.workflows = registry
    config.add_request_method(lambda request: request.registry["workflows"],
                              "workflows", reify=True)
