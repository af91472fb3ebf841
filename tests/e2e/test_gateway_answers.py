"""API Gateway's own answers on the local stack: the API's error body and a message to act on, and the CLI
printing it (never `403 None: Forbidden`). The emulator ignores the OpenAPI body's gateway responses;
scripts/localstack.py puts the template's on its API at deploy, and it does not fill $context.httpMethod or
$context.path (AWS does: "no route GET /v1/task"), so here the message reads "for this method and path"."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_cli import tasklane

pytestmark = pytest.mark.e2e

NO_ROUTE = re.compile(
    r"no route (GET /v1/task|PUT /v1/tasks|for this method and path): the routes are listed by GET /openapi.json"
)
BAD_KEY = "API key missing or not valid for this stage: send it in the x-api-key header"


def _error(answer):
    body = answer.json()
    assert list(body) == ["error"], body
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["details"]["request_id"]
    return body["error"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/task"), ("PUT", "/tasks")])
def test_an_unknown_route_or_method_is_a_404_that_says_where_the_routes_are(alice, method, path):
    answer = alice.request(method, path)
    assert answer.status_code == 404, answer.text
    error = _error(answer)
    assert error["code"] == "no_route"
    assert NO_ROUTE.match(error["message"]), error["message"]
    assert error["details"]["gateway_error"] == "MISSING_AUTHENTICATION_TOKEN"


@pytest.mark.parametrize("key", ["not-a-key", None])
def test_a_bad_or_missing_api_key_is_a_403_that_says_how_to_send_one(stack, key):
    answer = stack.caller(key).request("GET", "/tasks")
    assert answer.status_code == 403, answer.text
    error = _error(answer)
    assert error["code"] == "invalid_api_key"
    assert error["message"].startswith(BAD_KEY)
    assert error["details"]["gateway_error"] == "INVALID_API_KEY"


def test_the_cli_prints_the_gateway_s_answer(stack):
    printed = tasklane("--api-key", "not-a-key", "list")
    assert printed.returncode != 0
    assert f"403 invalid_api_key: {BAD_KEY}" in printed.stderr, printed.stderr
    assert "None" not in printed.stderr
    assert "Traceback" not in printed.stderr
