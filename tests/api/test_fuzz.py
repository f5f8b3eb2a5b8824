"""schemathesis over every route of the live server's own OpenAPI document (/openapi.json):
random valid and invalid requests, with a valid key; no answer may be a 5xx, and every answer
must match the document (status code, content type, body schema).

The server runs with no embedded worker (`serve --workers 0`), so a create that happens to be
valid is queued, never trained. One tuned model is trained beforehand, by a worker inside this
test process, so that the generation, operation and permission routes are also fuzzed on a
resource that exists, not only on random ids that answer 404.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from live import MODELS_CACHE, TINY, live_server, start_tuning, wait_done
from sintonia.api.routes import models, operations, permissions, tuned_models

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Not `negative_data_rejection`: the wire is lenient on purpose (spec §1 accepts "4" for an
# integer and snake_case keys), so some data outside the schema is rightly accepted.

EXAMPLES = 30  # per route and generation mode; the whole test takes about a minute on 2 cores

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: CI must not turn red by chance
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

LIVE_MODEL = "fuzz-live"

# Routes whose fuzzing must not touch the live resources (other routes still reach them).
DESTRUCTIVE = {
    ("DELETE", "/v1beta/tunedModels/{model_id}"),
    ("POST", "/v1beta/tunedModels/{model_id}:transferOwnership"),
    ("DELETE", "/v1beta/tunedModels/{model_id}/permissions/{pid}"),
}


def documented_routes() -> list[tuple[str, str]]:
    """(METHOD, /v1beta path) of every route in the document, from the routers themselves."""
    return sorted(
        (method, "/v1beta" + route.path)
        for module in (operations, permissions, tuned_models, models)
        for route in module.router.routes
        if route.include_in_schema
        for method in route.methods
    )


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    """The live server (no worker), its schema, and the ids of one live model's resources."""
    home = tmp_path_factory.mktemp("fuzz-home")
    with live_server(home, tiny_model_dir, workers=0) as server:
        operation = start_tuning(server, LIVE_MODEL)
        _train_queued_job(home, tiny_model_dir)
        assert "response" in wait_done(server, operation)
        status, permission = server.call(
            "POST",
            f"/v1beta/tunedModels/{LIVE_MODEL}/permissions",
            {"granteeType": "USER", "emailAddress": "reader@example.com", "role": "READER"},
        )
        assert status == 200, permission
        live = {
            "model_id": LIVE_MODEL,
            "op_id": operation.rsplit("/", 1)[1],
            "pid": permission["name"].rsplit("/", 1)[1],
            "name": TINY.removeprefix("models/"),
        }
        schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
        yield server, schema, live


def _train_queued_job(home: Path, tiny_model_dir: Path) -> None:
    from sintonia.jobs.worker import Worker
    from sintonia.settings import Settings

    settings_ = Settings.from_env(
        {
            "SINTONIA_HOME": str(home),
            "SINTONIA_MODELS_DIR": str(MODELS_CACHE),
            "SINTONIA_LOCAL_MODELS": str(tiny_model_dir),
            "SINTONIA_DEVICE": "cpu",
        }
    )
    assert Worker(settings_).run_next()


def test_the_document_describes_every_route(fuzzed) -> None:
    _, schema, _ = fuzzed
    listed = sorted(
        (result.ok().method.upper(), result.ok().path)
        for result in schema.get_all_operations()
        if result.ok().path.startswith("/v1beta/")
    )
    assert listed == documented_routes()
    for method, path in listed:
        operation = schema[path][method]
        body = operation.definition.raw.get("requestBody")
        if method in ("POST", "PATCH") and not path.endswith(":cancel"):
            assert body is not None, f"{method} {path} documents no request body"
        ok = operation.definition.raw["responses"]["200"]["content"]["application/json"]
        assert ok["schema"], f"{method} {path} documents no answer"


@pytest.mark.parametrize(("method", "path"), documented_routes())
def test_fuzzed_requests_get_no_5xx_and_documented_answers(fuzzed, method: str, path: str) -> None:
    server, schema, live = fuzzed
    operation = schema[path][method]
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    names = {p.name for p in operation.path_parameters}
    if names and (method, path) not in DESTRUCTIVE:
        fixed = {name: live[name] for name in names}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
        # The document's own examples, on the live resources: the success path, checked.
        strategies += schema.get_strategies_from_examples(operation, path_parameters=fixed)
    headers = {"x-goog-api-key": server.keys["owner"]}
    answers: Counter[int] = Counter()

    @FUZZ
    @given(case=st.one_of(strategies))
    def run(case) -> None:
        response = case.call_and_validate(
            base_url=server.url, headers=headers, checks=CHECKS, timeout=60
        )
        answers[response.status_code] += 1

    run()
    # Fuzzing that only ever meets 400 and 404 proves little: where a live resource (or none)
    # is named, the success path must have been reached, and checked, too.
    if len(strategies) == 3 or (not names and (method, path) != ("POST", "/v1beta/tunedModels")):
        assert answers[200], f"{method} {path} never answered 200: {dict(answers)}"
