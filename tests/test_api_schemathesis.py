"""schemathesis over /api/openapi.json: generated requests to every operation —
well-formed ones and deliberately wrong ones, as a curator (so writes run too)
and anonymously — never get a 5xx, every answer matches the documented
schema, a request the schema allows is not refused and one it refuses is not
accepted (what no schema can state is listed in schemathesis.toml, which
`st run` reads too). The number of examples is bounded to keep the suite fast.

Each generated request goes to every backend's app in turn (SQLite, and PostgreSQL when the suite has it):
generating requests costs more than answering them, so they are generated once, not once per backend.

(Operations are walked here rather than with schemathesis' pytest plugin,
whose fixture loader does not run on pytest 9.)
"""
from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.config import SchemathesisConfig

from server.app import create_app
from tests.api_helpers import curator
from tests.conftest import BACKENDS, fixture_library

EXAMPLES = {"curator": {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 6}, "anonymous": {GenerationMode.POSITIVE: 4}}
CHECKS = [checks.not_a_server_error, checks.response_schema_conformance, checks.content_type_conformance,
          checks.positive_data_acceptance, checks.negative_data_rejection]
CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"


@pytest.fixture
def fuzzed_apps(templates, tmp_path):
    """One app per backend on the fixture library, without rate limits (hundreds of requests in a few seconds),
    each with a curator's key of its own: [(backend, app, curator headers)]."""
    made = []
    for backend in BACKENDS:
        where = tmp_path / backend
        where.mkdir()
        url = templates.copy(backend, fixture_library, where)
        templates.copy_derived(backend, fixture_library, where)
        app = create_app({"TESTING": True, "DATABASE_URL": url, "DATA_DIR": str(where),
                          "RATE_LIMIT": "off", "RATE_LIMIT_COSTLY": "off"})
        made.append((backend, app, url))
    yield [(backend, app, curator(app)) for backend, app, _ in made]
    for _, app, url in made:
        app.extensions["zhibiao.engine"].dispose()
        templates.drop(url)


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=SchemathesisConfig.from_path(CONFIG))
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(operation, mode: GenerationMode, targets: list[tuple], examples: int) -> None:
    """Generate `examples` requests for `operation` and send each to every (backend, app, headers) of `targets`."""
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        for backend, app, headers in targets:
            try:
                case.call_and_validate(headers=headers, checks=CHECKS, app=app)
            except Exception as exc:
                exc.add_note(f"(on {backend})")
                raise

    run()


@pytest.mark.parametrize(("who", "mode"), [
    ("curator", GenerationMode.POSITIVE),
    ("curator", GenerationMode.NEGATIVE),
    ("anonymous", GenerationMode.POSITIVE),
], ids=["curator-positive", "curator-negative", "anonymous-positive"])
def test_no_server_errors_and_no_schema_violations(fuzzed_apps, who, mode):
    targets = [(backend, app, headers if who == "curator" else {}) for backend, app, headers in fuzzed_apps]
    assert [backend for backend, _, _ in targets] == BACKENDS
    operations = _operations(targets[0][1])
    assert len(operations) >= 15
    failures = []
    for operation in operations:
        try:
            _fuzz(operation, mode, targets, EXAMPLES[who][mode])
        except Unsatisfiable:
            continue  # nothing about this operation can be made wrong (no parameters, or free text only)
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
