"""API Gateway's own answers (no function ran) have the API's error body and a message a person can act on.

The local emulator does not read `x-amazon-apigateway-gateway-responses` from the OpenAPI body (it answers
API Gateway's defaults); scripts/localstack.py puts them on its API at deploy (tests/e2e/test_gateway_answers.py).
Here each template is rendered as API Gateway renders it, $context variables replaced (no VTL), for both AuthModes.
"""

from __future__ import annotations

import json
import re

import pytest

from tests import cfn, translated

EXTENSION = "x-amazon-apigateway-gateway-responses"
# Every answer API Gateway gives by itself that a tasklane caller can meet, and its status.
EXPECTED = {
    "MISSING_AUTHENTICATION_TOKEN": None,  # 404 with API keys (only an unknown route), 403 with SigV4
    "INVALID_API_KEY": "403",
    "ACCESS_DENIED": "403",
    "INVALID_SIGNATURE": "403",
    "EXPIRED_TOKEN": "403",
    "THROTTLED": "429",
    "QUOTA_EXCEEDED": "429",
    "REQUEST_TOO_LARGE": "413",
    "INTEGRATION_TIMEOUT": "504",
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
}
# The $context variables the templates may use: those API Gateway documents for data transformations.
CONTEXT = {
    "httpMethod": "GET",
    "path": "/v1/task",
    "requestId": "c0ffee00-0000-4000-8000-000000000000",
    "error.responseType": "MISSING_AUTHENTICATION_TOKEN",
    "error.messageString": json.dumps('Missing "Authentication" Token'),
}
# What API Gateway says by default: a caller cannot act on it.
DEFAULT_WORDING = {"Forbidden", "Missing Authentication Token", "Unauthorized", "Too Many Requests", "Limit Exceeded"}


def _responses(auth_mode: str) -> dict:
    body = cfn.template()["Resources"]["TasklaneApi"]["Properties"]["DefinitionBody"]

    def resolve(node):
        if isinstance(node, dict) and set(node) == {"Fn::If"}:
            condition, when_true, when_false = node["Fn::If"]
            assert condition == "UseApiKey"
            return resolve(when_true if auth_mode == "api_key" else when_false)
        if isinstance(node, dict):
            return {k: resolve(v) for k, v in node.items()}
        return node

    return resolve(body[EXTENSION])


def render(template: str) -> dict:
    """The body API Gateway sends: each $context variable replaced by its value, then parsed as JSON."""
    used = set(re.findall(r"\$context\.([A-Za-z.]+[A-Za-z])", template))
    assert used <= set(CONTEXT), used - set(CONTEXT)
    for name in sorted(used, key=len, reverse=True):
        template = template.replace(f"$context.{name}", CONTEXT[name])
    return json.loads(template)


@pytest.mark.parametrize("auth_mode", ["api_key", "iam"])
def test_every_answer_of_api_gateway_itself_is_customised(auth_mode):
    assert set(_responses(auth_mode)) == set(EXPECTED)


@pytest.mark.parametrize("auth_mode", ["api_key", "iam"])
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_has_the_api_error_shape_and_its_own_actionable_message(auth_mode, kind):
    response = _responses(auth_mode)[kind]
    assert response.get("statusCode") == EXPECTED[kind] or EXPECTED[kind] is None
    assert list(response["responseTemplates"]) == ["application/json"]
    body = render(response["responseTemplates"]["application/json"])
    assert list(body) == ["error"]
    error = body["error"]
    assert list(error) == ["code", "message", "details"]
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", error["code"]), error["code"]
    assert error["details"] == {"gateway_error": CONTEXT["error.responseType"], "request_id": CONTEXT["requestId"]}
    if kind.startswith("DEFAULT_"):
        assert error["message"] == 'Missing "Authentication" Token'  # API Gateway's message, quoted safely
    else:
        assert error["message"] not in DEFAULT_WORDING
        assert ":" in error["message"], "a message says what happened, then what to do"


def test_an_unknown_route_names_the_method_and_path_and_where_the_routes_are():
    with_keys = render(_responses("api_key")["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]["application/json"])
    assert _responses("api_key")["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert with_keys["error"]["code"] == "no_route"
    assert with_keys["error"]["message"].startswith("no route GET /v1/task: ")
    assert "GET /openapi.json" in with_keys["error"]["message"]
    signed = render(_responses("iam")["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]["application/json"])
    assert _responses("iam")["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "403"
    assert signed["error"]["message"].startswith("no route GET /v1/task, or the request is not signed: ")


def test_a_bad_or_missing_key_says_how_to_send_one():
    body = render(_responses("api_key")["INVALID_API_KEY"]["responseTemplates"]["application/json"])
    assert body["error"]["message"].startswith("API key missing or not valid for this stage: ")
    assert "x-api-key" in body["error"]["message"]
    assert "TASKLANE_API_KEY" in body["error"]["message"]


def test_sam_keeps_them_in_the_deployed_api():
    (api,) = translated.resources("AWS::ApiGateway::RestApi").values()
    assert set(api["Properties"]["Body"][EXTENSION]) == set(EXPECTED)
