"""The client's reading of an error answer: the API's shape, API Gateway's own (customised or default)."""

from __future__ import annotations

import pytest
from tasklane_client.errors import AuthError, NotFound, ServerError, TasklaneError, Throttled, from_answer


def test_the_api_error_shape_is_read_as_is():
    error = from_answer(404, {"error": {"code": "task_not_found", "message": "no task x", "details": None}})
    assert isinstance(error, NotFound)
    assert str(error) == "404 task_not_found: no task x"


def test_the_stack_s_gateway_answer_for_a_bad_key_prints_its_message():
    body = {
        "error": {
            "code": "invalid_api_key",
            "message": "API key missing or not valid for this stage: send it in the x-api-key header",
            "details": {"gateway_error": "INVALID_API_KEY", "request_id": "r-1"},
        }
    }
    error = from_answer(403, body)
    assert isinstance(error, AuthError)
    assert str(error) == f"403 invalid_api_key: {body['error']['message']}"


@pytest.mark.parametrize(
    ("status", "said", "kind", "code", "start"),
    [
        (403, "Forbidden", AuthError, "invalid_api_key", "API key missing or not valid for this stage: "),
        (403, "Missing Authentication Token", AuthError, "no_route_or_unsigned", "no route for this method and path"),
        (429, "Too Many Requests", Throttled, "throttled", "too many requests"),
        (429, "Limit Exceeded", Throttled, "quota_exceeded", "this API key has used its quota"),
        (504, "Endpoint request timed out", ServerError, "timeout", "the API did not answer within 29 s"),
    ],
)
def test_api_gateway_s_default_answers_get_a_code_and_an_actionable_message(status, said, kind, code, start):
    """What a stack deployed without gateway responses (or the local emulator) answers: never `403 None: Forbidden`."""
    error = from_answer(status, {"message": said})
    assert isinstance(error, kind)
    assert error.code == code
    assert error.message.startswith(start)
    assert "None" not in str(error)


@pytest.mark.parametrize(
    ("status", "body", "printed"),
    [
        (502, {"message": "Internal server error"}, "502 http_502: Internal server error"),
        (500, None, "500 http_500: HTTP 500 with no message"),
        (418, {"Message": "I'm a teapot"}, "418 http_418: I'm a teapot"),
        (400, {"error": {"message": "bad"}}, "400 http_400: bad"),
    ],
)
def test_any_other_answer_still_names_its_status_never_none(status, body, printed):
    error = from_answer(status, body)
    assert isinstance(error, TasklaneError)
    assert str(error) == printed
