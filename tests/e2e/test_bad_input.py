"""Bad input against the stack on the emulator: schemathesis from the API's own OpenAPI (positive and
negative cases), then the hand-made worst cases. No 5xx, and every 4xx in the one error shape."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

pytestmark = pytest.mark.e2e

# About 2,400 cases in all (at least 2,000 are asked for), shared out evenly over the operations and
# both modes, so that the run's length stays the same as routes are added; TASKLANE_FUZZ_CASES=20000
# for a deeper run.
CASES = int(os.environ.get("TASKLANE_FUZZ_CASES", "2400"))
MIN_EXAMPLES = 20
FUZZ_REPORT: Counter[str] = Counter()


def assert_well_formed(response: requests.Response | object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    FUZZ_REPORT["cases"] += 1
    FUZZ_REPORT[f"{status // 100}xx"] += 1
    assert status < 500, f"{status}: {response.text[:300]}"  # type: ignore[attr-defined]
    if status >= 400 and status not in (403, 429):  # 403/429 come from API Gateway itself
        body = response.json()  # type: ignore[attr-defined]
        assert set(body) == {"error"}, body
        assert {"code", "message", "details"} == set(body["error"]), body


def test_schemathesis_cases_from_the_apis_own_openapi(stack):
    import schemathesis
    from schemathesis import GenerationMode

    # An owner of its own: the fuzzer calls every route (bulk cancels, deletes), and other tests run
    # beside it on the same stack with theirs.
    alice = stack.caller(stack.new_api_key())

    document = alice.request("GET", "/openapi.json").json()
    document["servers"] = [{"url": alice.base}]
    schema = schemathesis.openapi.from_dict(document)
    headers = {"x-api-key": alice.key}
    operations = [result.ok() for result in schema.get_all_operations()]
    examples = max(MIN_EXAMPLES, CASES // (2 * len(operations)))
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case):
                assert_well_formed(case.call(base_url=alice.base, headers=headers, timeout=30))

            try:
                check()
            except Unsatisfiable:  # an operation without inputs has no negative cases
                FUZZ_REPORT["operations without negative cases"] += 1
    print(f"\nschemathesis: {len(operations)} operations, {examples} examples each per mode: {dict(FUZZ_REPORT)}")
    assert FUZZ_REPORT["5xx"] == 0
    assert FUZZ_REPORT["cases"] >= len(operations), "an operation was never called"


WORST = [
    ("oversized payload", {"data": json.dumps({"task_type": "echo", "payload": {"x": "y" * (1024 * 1024)}})}, {413}),
    ("payload nested 300 deep", {"data": '{"task_type": "echo", "payload": ' + '{"a":' * 300 + "1" + "}" * 301}, {422}),
    (
        "deeply nested JSON",
        {"data": '{"task_type": "echo", "payload": ' + "[" * 50_000 + "]" * 50_000 + "}"},
        {400, 422},
    ),
    # The gateway hands the function text: invalid bytes reach it replaced by U+FFFD, or are refused.
    ("non-UTF-8 bytes", {"data": b'{"task_type": "echo", "payload": {"x": "\xff\xfe"}}'}, {202, 400}),
    (
        "wrong content type",
        {"data": "task_type=echo", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        {415},
    ),
    ("text/plain JSON", {"data": '{"task_type": "echo"}', "headers": {"content-type": "text/plain"}}, {415}),
    ("huge number", {"json": {"task_type": "compute", "payload": {"n": 10**400}}}, {422}),
    ("negative number", {"json": {"task_type": "sleep", "payload": {"seconds": -1}}}, {422}),
    ("huge delay", {"json": {"task_type": "echo", "delay_seconds": 2**64}}, {422}),
    ("NaN", {"data": '{"task_type": "sleep", "payload": {"seconds": NaN}}'}, {422}),
    ("Infinity", {"data": '{"task_type": "echo", "payload": {"x": -Infinity}}'}, {422}),
    ("1e400", {"data": '{"task_type": "echo", "payload": {"x": 1e400}}'}, {422}),
    ("5,000-digit integer", {"data": '{"task_type": "echo", "payload": {"x": ' + "7" * 5000 + "}}"}, {422}),
    ("unpaired surrogate", {"data": '{"task_type": "echo", "payload": {"x": "\\udc00"}}'}, {422}),
    ("not an object", {"json": ["task_type", "echo"]}, {422}),
    ("empty body", {"data": ""}, {400, 422}),
    ("null", {"data": "null"}, {400, 422}),
]


@pytest.mark.parametrize(("name", "request_args", "statuses"), WORST, ids=[w[0] for w in WORST])
def test_the_worst_bodies_are_refused_with_a_clear_4xx(alice, name, request_args, statuses):
    headers = {"content-type": "application/json", **request_args.pop("headers", {})}
    response = alice.request("POST", "/tasks", headers=headers, **request_args)
    assert_well_formed(response)
    assert response.status_code in statuses, response.text[:300]


@pytest.mark.parametrize(
    "task_id",
    [
        "not-an-id",
        "0" * 36,
        "../../etc/passwd",
        "%00",
        "3f1c2a4e-8b7d-4c6e-9a1f-2b3c4d5e6f7g",
        "x" * 2000,
        "' OR 1=1 --",
    ],
)
def test_task_ids_that_are_not_ids(alice, task_id):
    from urllib.parse import quote

    for method, suffix in (("GET", ""), ("GET", "/result"), ("DELETE", ""), ("POST", "/retry")):
        response = alice.request(method, f"/tasks/{quote(task_id, safe='')}{suffix}")
        assert_well_formed(response)
        # 403 is API Gateway's own answer when an id with slashes matches no route
        assert response.status_code in (400, 403, 404)
