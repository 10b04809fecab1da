"""Fuzzing the JSON API from its own description (issue #6): schemathesis reads
``/@openapi.json`` and sends generated requests, as a logged-in professional, to
every operation it describes; none may answer a 500 or an answer its description
does not allow. The example count is bounded so that CI stays quick
(``CABINET_FUZZ_EXAMPLES``, default 15 per operation)."""
import os
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)
from sqlalchemy import select

from cabinet.models import Node
from tests.conftest import api_token

EXAMPLES = int(os.environ.get("CABINET_FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_no_operation_answers_a_500_or_outside_its_description(demo, engine, testapp):
    schema = schemathesis.openapi.from_wsgi("/@openapi.json", demo)
    with engine.connect() as conn:
        rows = conn.execute(select(Node.path)).scalars().all()
    paths = sorted(p.strip("/") for p in rows if p != "/")
    names = sorted({p.rstrip("/").rsplit("/", 1)[-1] for p in rows if p != "/"})
    failures, operations, answers = {}, 0, Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # a token per operation: fuzzing POST /@logout revokes the one it is sent with
        bearer = {"Authorization": f"Bearer {api_token(testapp, 'dr.martin')}",
                  "Accept": "application/json"}

        @given(case=operation.as_strategy(), where=st.sampled_from(paths),
               name=st.sampled_from(names))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case, where, name):
            # a real resource for most cases: random path segments only reach the 404
            for param in case.path_parameters or {}:
                if param == "path":
                    case.path_parameters[param] = where
                elif param != "matricule":
                    case.path_parameters[param] = name
            case.headers = {**(case.headers or {}), **bearer}   # over generated ones
            response = case.call()
            answers[response.status_code // 100] += 1
            case.validate_response(response, checks=CHECKS)
        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - each one reported
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:1500]
    print(f"{operations} operations, answers by class: {dict(sorted(answers.items()))}")
    assert operations > 50, operations
    # the generated requests reached the operations, not only the refusals
    assert answers[2] > operations, answers
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
