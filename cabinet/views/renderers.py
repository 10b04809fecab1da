"""The ``.jinja2`` renderer: templates are looked up by name in the search path only.

pyramid_jinja2's own factory first tries the name relative to the calling package
(``cabinet.views:node.jinja2``), a look-up that always fails here (the templates live in
the top-level ``templates/`` folder) and, failures not being cached by Jinja2, costs
file-system checks on every rendering. Registered by cabinet.main() right after
including pyramid_jinja2, which it overrides."""
from pyramid_jinja2 import IJinja2Environment, Jinja2TemplateRenderer


def search_path_renderer_factory(info):
    environment = info.registry.getUtility(IJinja2Environment, name=".jinja2")
    name = info.name
    return Jinja2TemplateRenderer(lambda: environment.get_template(name))

