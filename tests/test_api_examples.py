"""Every operation of the OpenAPI document shows an example of its request body (where it takes a JSON one)
and of its success answer, and the examples are real: sent again to the library they came from, the
requests of tests/openapi_examples.py still answer with the same status and the same shape."""
from __future__ import annotations

import pytest

from api.openapi_doc import examples
from tests.api_helpers import curator
from tests.openapi_examples import REQUESTS, exchanges, trimmed


@pytest.fixture
def examples_app(app):
    """`app` on the examples library (tests.conftest.PREPARED picks it by this fixture's name)."""
    return app


def _operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method != "parameters":
                yield path, method, op


def test_every_operation_has_a_request_and_an_answer_example(shared_app):
    spec = shared_app.test_client().get("/api/openapi.json").get_json()
    missing, operations = [], set()
    for path, method, op in _operations(spec):
        operations.add(f"{method} {path}")
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None and not body.get("example"):
            missing.append(f"{method} {path}: request")
        success = min(code for code in op["responses"] if code.startswith("2"))
        answer = op["responses"][success].get("content", {}).get("application/json", {})
        if not answer.get("example"):
            missing.append(f"{method} {path}: {success} answer")
    assert missing == [], "operations without examples (add them to tests/openapi_examples.py and regenerate)"
    assert set(examples()) == operations, "examples of operations that are gone"


def _shape(value):
    """What an answer looks like, without the values that change from run to run (times, scores)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "value"


def test_the_examples_are_what_the_api_answers(examples_app):
    stored = examples()
    assert [op for op, *_ in REQUESTS] == list(stored), "regenerate: python -m tests.openapi_examples"
    client = examples_app.test_client()
    for operation, url, body, status, answer in exchanges(client, curator(examples_app)):
        example = stored[operation]
        assert (url, body) == (example["url"], example.get("request")), operation
        assert status == example["status"], (operation, answer)
        assert _shape(trimmed(answer)) == _shape(example["response"]), operation
