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


MAIN_SCHEMAS = {"Error", "SearchResult", "IndicatorDoc", "CompletionList", "Recommendation", "CheckResult",
                "MonitorResult", "EvaluationResult", "VersionList", "Diff", "QuotaDoc", "CaseDoc", "Job"}


def test_the_main_schemas_carry_an_example_that_is_valid_against_them(shared_app):
    """A schema's example is an answer the API gave (or the documented error body), and it still fits the
    schema it illustrates: a field renamed or retyped since the examples were taken shows up here."""
    from openapi_schema_validator import OAS30Validator

    spec = shared_app.test_client().get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert MAIN_SCHEMAS <= {name for name, schema in schemas.items() if "example" in schema}
    wrong = {}
    for name, schema in schemas.items():
        if "example" in schema:
            # the schema by reference, beside the components its own references point into
            within = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
            errors = [e.message for e in OAS30Validator(within).iter_errors(schema["example"])]
            if errors:
                wrong[name] = errors[:3]
    assert wrong == {}
