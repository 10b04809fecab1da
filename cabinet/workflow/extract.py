"""Babel extraction of the workflows' titles (babel.cfg: ``workflows/*.yaml``): the
titles of a workflow, its states and its transitions are French msgids of the
``cabinet`` catalogs, shown in the reader's language by the templates' ``_()``
(the helpers of cabinet.labels, the state badge and the transition buttons)."""
import re

import yaml

_TITLE = re.compile(r"^\s*title:\s*(?P<value>\S.*?)\s*$")


def extract_titles(fileobj, keywords, comment_tags, options):
    """Babel's extraction method: (line number, function, message, comments) of each
    ``title:`` of a workflow definition."""
    for lineno, line in enumerate(fileobj.read().decode("utf-8").splitlines(), 1):
        match = _TITLE.match(line)
        if match:
            title = yaml.safe_load(match.group("value"))
            if isinstance(title, str) and title:
                yield lineno, "_", title, []
