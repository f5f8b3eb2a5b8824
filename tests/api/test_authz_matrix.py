"""Authorization matrix: every route x every kind of caller gets exactly the allowed answer.

The callers, for a private tuned model owned by owner@ that writer@ may write and reader@ may
read (see api/deps.py and auth/access.py: READER < WRITER < OWNER):
    owner, writer, reader  keys of those three users
    stranger               a valid key of a user with no role on the model
    none                   no credentials at all                 -> 403 PERMISSION_DENIED
    wrong                  a key the server never issued         -> 400 API_KEY_INVALID
    noscope                the owner's key without the route's scope (generate-only for the
                           tuning routes, tuning.readonly for generation) -> 403 insufficient
                           scopes; base-model list/get accept any scope, so it gets 200 there
A stranger gets 404 for a private model, the very answer a missing model gets.
"""

from __future__ import annotations

from itertools import count

import pytest

from live import TINY, create_tuned, examples
from sintonia.api.routes import models, operations, permissions, tuned_models

WHO = ("owner", "writer", "reader", "stranger", "none", "wrong", "noscope")

# fmt: off
# method   path (under /v1beta)                           own   wri   rea   str   none  wrong nosc
MATRIX = [
    ("GET",   "/models",                                  200,  200,  200,  200,  403,  400,  200),
    ("GET",   "/models/{base}",                           200,  200,  200,  200,  403,  400,  200),
    ("POST",  "/models/{base}:generateContent",           200,  200,  200,  200,  403,  400,  403),
    ("POST",  "/models/{base}:streamGenerateContent",     200,  200,  200,  200,  403,  400,  403),
    ("POST",  "/models/{base}:countTokens",               200,  200,  200,  200,  403,  400,  403),
    ("POST",  "/tunedModels",                             200,  200,  200,  200,  403,  400,  403),
    ("GET",   "/tunedModels",                             200,  200,  200,  200,  403,  400,  403),
    ("GET",   "/tunedModels/{m}",                         200,  200,  200,  404,  403,  400,  403),
    ("PATCH", "/tunedModels/{m}",                         200,  200,  403,  404,  403,  400,  403),
    ("DELETE","/tunedModels/{m}",                         200,  403,  403,  404,  403,  400,  403),
    ("POST",  "/tunedModels/{m}:generateContent",         200,  200,  200,  404,  403,  400,  403),
    ("POST",  "/tunedModels/{m}:streamGenerateContent",   200,  200,  200,  404,  403,  400,  403),
    ("POST",  "/tunedModels/{m}:countTokens",             200,  200,  200,  404,  403,  400,  403),
    ("POST",  "/tunedModels/{m}:cancel",                  200,  200,  403,  404,  403,  400,  403),
    ("POST",  "/tunedModels/{m}:transferOwnership",       200,  403,  403,  404,  403,  400,  403),
    ("GET",   "/tunedModels/{m}/job",                     200,  200,  200,  404,  403,  400,  403),
    ("GET",   "/tunedModels/{m}/operations",              200,  200,  200,  404,  403,  400,  403),
    ("GET",   "/tunedModels/{m}/operations/{op}",         200,  200,  200,  404,  403,  400,  403),
    ("POST",  "/tunedModels/{m}/operations/{op}:cancel",  200,  200,  403,  404,  403,  400,  403),
    ("POST",  "/tunedModels/{m}/permissions",             200,  200,  403,  404,  403,  400,  403),
    ("GET",   "/tunedModels/{m}/permissions",             200,  200,  200,  404,  403,  400,  403),
    ("GET",   "/tunedModels/{m}/permissions/{pid}",       200,  200,  200,  404,  403,  400,  403),
    ("PATCH", "/tunedModels/{m}/permissions/{pid}",       200,  200,  403,  404,  403,  400,  403),
    ("DELETE","/tunedModels/{m}/permissions/{pid}",       200,  200,  403,  404,  403,  400,  403),
]
# fmt: on

GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
# Which of the three 403s (and the 400) a column must get, by the start of its message.
WHY = {
    "none": "Method doesn't allow unregistered callers",
    "wrong": "API key not valid.",
    "noscope": "Request had insufficient authentication scopes.",
    "writer": "You do not have permission",
    "reader": "You do not have permission",
    "stranger": "Tuned model tunedModels/",
}

GENERATE = {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputTokens": 2}}
# A call that changes what later calls see gets its own, new target when it is allowed.
CONSUMES = {
    ("DELETE", "/tunedModels/{m}"): "m",
    ("POST", "/tunedModels/{m}:transferOwnership"): "m",
    ("DELETE", "/tunedModels/{m}/permissions/{pid}"): "pid",
}


def is_generation(path: str) -> bool:
    return path.endswith((":generateContent", ":streamGenerateContent", ":countTokens"))


def body_for(method: str, path: str, who: str) -> dict | None:
    if path == "/tunedModels" and method == "POST":
        data = {"examples": {"examples": examples(20)}}
        hyper = {"epochCount": 1, "batchSize": 20, "learningRate": 0.01}
        return {"baseModel": TINY, "tuningTask": {"hyperparameters": hyper, "trainingData": data}}
    if is_generation(path):
        return GENERATE
    if path.endswith(":transferOwnership"):
        return {"emailAddress": "writer@example.com"}
    if path.endswith("/permissions") and method == "POST":
        return {"granteeType": "USER", "emailAddress": f"new-{who}@example.com", "role": "READER"}
    if method == "PATCH":
        return {"role": "READER"} if "permissions" in path else {"description": "matrix"}
    return {} if method == "POST" else None


def query_for(method: str, path: str, who: str) -> str:
    if path == "/tunedModels" and method == "POST":
        return f"?tunedModelId=authz-new-{who}"
    return "?updateMask=role" if method == "PATCH" and "permissions" in path else ""


def key_for(path: str, who: str, keys: dict[str, str]) -> str | None:
    if who == "none":
        return None
    if who == "wrong":
        return "sk-never-issued"
    if who == "noscope":
        wants_generate = is_generation(path) or path.startswith("/models")
        return keys["readonly"] if wants_generate else keys["generate_only"]
    return keys[who]


@pytest.fixture(scope="module")
def private(server) -> dict[str, str]:
    """A trained private model of owner@ with writer@ as WRITER and reader@ as READER, and
    the ids of its operation and of a third party's permission."""
    model = "authz-private"
    create_tuned(server, model)  # ACTIVE, so that generation answers
    ids = {"m": model, "base": TINY.removeprefix("models/")}
    status, ops = server.call("GET", f"/v1beta/tunedModels/{model}/operations")
    assert status == 200, ops
    ids["op"] = ops["operations"][0]["name"].rsplit("/", 1)[1]
    for email, role in (("writer@", "WRITER"), ("reader@", "READER"), ("friend@", "READER")):
        ids["pid"] = grant(server, model, email + "example.com", role)
    return ids


def grant(server, model: str, email: str, role: str) -> str:
    status, permission = server.call(
        "POST",
        f"/v1beta/tunedModels/{model}/permissions",
        {"granteeType": "USER", "emailAddress": email, "role": role},
    )
    assert status == 200, permission
    return permission["name"].rsplit("/", 1)[1]


_SERIAL = count()


def fresh(server, what: str, who: str, ids: dict[str, str]) -> dict[str, str]:
    """New targets for a call that consumes its target."""
    if what == "pid":
        return {**ids, "pid": grant(server, ids["m"], f"gone-{who}@example.com", "READER")}
    model = f"authz-gone-{next(_SERIAL)}"
    status, op = server.call(
        "POST",
        f"/v1beta/tunedModels?tunedModelId={model}",
        body_for("POST", "/tunedModels", who),
    )
    assert status == 200, op
    grant(server, model, "writer@example.com", "WRITER")
    grant(server, model, "reader@example.com", "READER")
    return {**ids, "m": model}


def test_the_matrix_covers_every_route() -> None:
    routes = {
        (method, route.path)
        for module in (operations, permissions, tuned_models, models)
        for route in module.router.routes
        if route.include_in_schema
        for method in route.methods
    }
    placeholders = {"{m}": "{model_id}", "{op}": "{op_id}", "{pid}": "{pid}", "{base}": "{name}"}
    listed = set()
    for method, path, *_ in MATRIX:
        for short, full in placeholders.items():
            path = path.replace(short, full)
        listed.add((method, path))
    assert listed == routes


CELLS = [
    pytest.param(method, path, who, expected, id=f"{who}-{method}-{path}")
    for method, path, *answers in MATRIX
    for who, expected in zip(WHO, answers, strict=True)
]


@pytest.mark.parametrize(("method", "path", "who", "expected"), CELLS)
def test_each_caller_gets_exactly_the_allowed_answer(
    server, private, method: str, path: str, who: str, expected: int
) -> None:
    ids = private
    if expected == 200 and (method, path) in CONSUMES:
        ids = fresh(server, CONSUMES[(method, path)], who, ids)
    url = "/v1beta" + path.format(**ids) + query_for(method, path, who)
    status, answer = server.call(
        method, url, body_for(method, path, who), key=key_for(path, who, server.keys)
    )
    assert status == expected, answer
    if expected == 200:
        return
    error = answer["error"]
    assert (error["code"], error["status"]) == (expected, GOOGLE_STATUS[expected])
    assert error["message"].startswith(WHY[who]), error["message"]


MODEL_ROUTES = [(method, path) for method, path, *_ in MATRIX if "{m}" in path]


@pytest.mark.parametrize(("method", "path"), MODEL_ROUTES)
def test_a_stranger_cannot_tell_a_private_model_from_a_missing_one(
    server, private, method: str, path: str
) -> None:
    def answer(model: str) -> tuple[int, str, str]:
        url = "/v1beta" + path.format(**{**private, "m": model}) + query_for(method, path, "x")
        status, body = server.call(method, url, body_for(method, path, "x"), key="stranger")
        error = body["error"]
        return status, error["status"], error["message"].replace(model, "ID")

    assert answer(private["m"]) == answer("authz-missing")
    assert answer("authz-missing")[:2] == (404, "NOT_FOUND")
