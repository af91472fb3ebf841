"""Every promise at AWS's limits, tried just under, at and just over each: large values through the
values bucket, input JSON cannot carry, bounded answers and idempotency records, outcome writes that
the table refuses for a while, and the lifecycle's edges (claims, delays, lost answers, retries)."""

from __future__ import annotations

import json

import pytest

from tasklane.limits import INLINE_VALUE_BYTES, MAX_BATCH_BODY_BYTES, MAX_INTEGER_DIGITS, MAX_PAYLOAD_BYTES, MIB
from tasklane.task_types.registry import _TYPES, TaskType
from tests.events import ALICE, api_event
from tests.functional.test_faults import _throttle
from tests.functional.test_lifecycle import _make_due

WRAPPER = len('{"blob":""}')  # the JSON of {"blob": s} is len(s) + WRAPPER bytes (ASCII s)


def submit_raw(tasklane, raw: str, key: str | None = None, name: str = "submit_task"):
    return tasklane.call(api_event(name, raw_body=raw, headers={"Idempotency-Key": key}))


def submit(tasklane, task_type="echo", payload=None, key=None, **fields):
    body = json.dumps({"task_type": task_type, "payload": payload or {}, **fields}, ensure_ascii=False)
    return submit_raw(tasklane, body, key)


def get(tasklane, task_id):
    return tasklane.call(api_event("get_task", task_id=task_id)).body


def result(tasklane, task_id):
    return tasklane.call(api_event("get_result", task_id=task_id))


def reconfigure(tasklane, monkeypatch, **env):
    """Settings as another stack's parameters would give them."""
    from tasklane import settings
    from tasklane.data import services

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.settings.cache_clear()
    services.services.cache_clear()


def blob(n: int) -> dict[str, str]:
    return {"blob": "x" * (n - WRAPPER)}


def stored_objects(tasklane, prefix: str) -> dict[str, int]:
    listing = tasklane.s3.list_objects_v2(Bucket=tasklane.stack.names["ValuesBucket"], Prefix=prefix)
    return {o["Key"]: o["Size"] for o in listing.get("Contents", [])}


def item_size(item) -> int:
    """An item's size as DynamoDB counts it, near enough: names plus values, in UTF-8 bytes."""

    def size(value):
        ((kind, inner),) = value.items()
        if kind in ("S", "N"):
            return len(inner.encode())
        if kind == "M":
            return sum(len(k.encode()) + size(v) for k, v in inner.items())
        return 1

    return sum(len(name.encode()) + size(value) for name, value in item.items())


# --- large values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "inline"), [(INLINE_VALUE_BYTES - 1, True), (INLINE_VALUE_BYTES, True), (INLINE_VALUE_BYTES + 1, False)]
)
def test_a_payload_above_the_inline_threshold_lives_in_the_bucket_and_round_trips(tasklane, size, inline):
    answer = submit(tasklane, payload=blob(size))
    assert answer.status == 202, answer.body
    task_id = answer.body["task_id"]
    assert answer.body["payload_size"] == size
    assert (answer.body["payload"] is not None, answer.body["payload_url"] is None) == (inline, inline)
    assert stored_objects(tasklane, "payloads/") == ({} if inline else {f"payloads/{task_id}.json": size})
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "completed"
    assert task["result_size"] == size  # echo: the result is the payload
    assert (task["result"] is not None, task["result_url"] is None) == (inline, inline)
    assert result(tasklane, task_id).body == {"task_id": task_id, "result": blob(size)}
    assert item_size(tasklane.item(task_id)) < 2 * INLINE_VALUE_BYTES + 4096  # never near 400 KB


@pytest.mark.parametrize(
    ("size", "status"), [(MAX_PAYLOAD_BYTES - 1, 202), (MAX_PAYLOAD_BYTES, 202), (MAX_PAYLOAD_BYTES + 1, 413)]
)
def test_a_payload_is_accepted_up_to_one_mib_of_json(tasklane, size, status):
    answer = submit(tasklane, payload=blob(size))
    assert answer.status == status, answer.body
    if status == 413:
        assert answer.body["error"]["code"] == "payload_too_large"
        assert answer.body["error"]["details"]["size"] == size
        assert stored_objects(tasklane, "payloads/") == {}  # nothing kept of a refused task


def test_payload_size_counts_utf8_bytes_not_characters(tasklane):
    accented = {"blob": "é" * ((MAX_PAYLOAD_BYTES - WRAPPER) // 2 + 1)}  # fewer characters, more bytes
    answer = submit(tasklane, payload=accented)
    assert answer.status == 413, answer.body


def test_a_result_over_the_inline_answer_limit_is_a_303_to_its_url(tasklane):
    task_id = submit(tasklane, "blob", {"size": 6 * MIB}).body["task_id"]
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["result"], task["result_size"]) == ("completed", None, 6 * MIB + len('{"data":""}'))
    answer = result(tasklane, task_id)
    assert answer.status == 303
    assert answer.headers["location"] == answer.body["result_url"]
    assert answer.body["result_size"] == task["result_size"]
    assert "X-Amz-Signature=" in answer.headers["location"]  # SigV4, short-lived


def test_the_inline_answer_limit_is_measured_as_the_answer_travels_escaped(tasklane, monkeypatch):
    """Non-ASCII text grows 3x when the Lambda answer escapes it: a result under the limit in bytes
    but over it as it travels is redirected, not answered as a 502."""
    from tasklane.logic import queries

    monkeypatch.setattr(queries, "MAX_INLINE_ANSWER_BYTES", 300_000)
    plain = submit(tasklane, payload={"t": "x" * 100_000}).body["task_id"]
    accented = submit(tasklane, payload={"t": "é" * 100_000}).body["task_id"]  # 200 KB, 600 KB escaped
    tasklane.drain("normal")
    assert result(tasklane, plain).status == 200
    assert result(tasklane, accented).status == 303


@pytest.mark.parametrize(("extra", "status"), [(0, "completed"), (1, "failed")])
def test_a_result_over_the_limit_fails_the_task_with_result_too_large(tasklane, monkeypatch, extra, status):
    limit = 200_000
    reconfigure(tasklane, monkeypatch, MAX_RESULT_BYTES=str(limit))
    task_id = submit(tasklane, "blob", {"size": limit - len('{"data":""}') + extra}).body["task_id"]
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == status
    if status == "failed":
        assert task["error"]["type"] == "ResultTooLarge"
        assert task["attempts"] == 1  # never retried: it cannot succeed
        assert stored_objects(tasklane, "results/") == {}
    assert tasklane.receive("normal") == []  # never left processing


@pytest.fixture
def returning():
    """A task type that returns whatever the test sets, counting its runs."""
    from pydantic import BaseModel

    box: dict = {"runs": 0, "value": None, "hook": None}

    class Empty(BaseModel):
        pass

    def run(payload, ctx):
        box["runs"] += 1
        if box["hook"]:
            box["hook"]()
        return box["value"]

    _TYPES["returning"] = TaskType("returning", Empty, run, timeout_seconds=5, max_attempts=3)
    yield box
    del _TYPES["returning"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"n": 10**5000}, {"s": "\ud800"}])
def test_a_result_with_no_json_form_fails_the_task_once_with_a_clear_type(tasklane, returning, value):
    returning["value"] = value
    task_id = submit(tasklane, "returning").body["task_id"]
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["error"]["type"], returning["runs"]) == ("failed", "ResultNotSerializable", 1)


def test_a_deep_but_small_result_is_kept_in_the_bucket_and_answered(tasklane, returning):
    deep: object = 1
    for _ in range(300):
        deep = [deep]
    returning["value"] = deep
    task_id = submit(tasklane, "returning").body["task_id"]
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["result"]) == ("completed", None)
    assert task["result_url"]
    assert result(tasklane, task_id).body["result"] == deep


# --- input JSON cannot carry ------------------------------------------------------------------------


def nested(depth: int) -> str:
    return '{"task_type":"echo","payload":' + '{"a":' * depth + "1" + "}" * depth + "}"


@pytest.mark.parametrize(("depth", "status"), [(63, 202), (64, 202), (65, 422), (254, 422), (255, 422), (1000, 422)])
def test_payload_nesting_is_accepted_to_64_levels_then_named_in_a_422(tasklane, depth, status):
    answer = submit_raw(tasklane, nested(depth))
    assert answer.status == status, answer.body
    if status == 422:
        [detail] = answer.body["error"]["details"]
        assert detail["field"] == "payload" + ".a" * 64  # where the 65th level starts
        assert detail["message"] == "nested deeper than 64 levels"


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_a_body_too_deep_to_parse_is_a_400(tasklane, depth):
    answer = submit_raw(tasklane, nested(depth))
    assert answer.status in (400, 422), answer.body
    assert answer.body["error"]["code"] in ("bad_request", "validation_error")


@pytest.mark.parametrize(
    ("number", "accepted"),
    [
        ("9" * MAX_INTEGER_DIGITS, True),
        ("-" + "9" * MAX_INTEGER_DIGITS, True),
        ("9" * (MAX_INTEGER_DIGITS + 1), False),
        ("NaN", False),
        ("Infinity", False),
        ("-Infinity", False),
        ("1e400", False),
        ("-1e400", False),
        ("1.7976931348623157e308", True),
    ],
)
def test_numbers_json_cannot_carry_are_a_422_naming_the_field(tasklane, number, accepted):
    answer = submit_raw(tasklane, '{"task_type":"echo","payload":{"deep":{"n":' + number + "}}}")
    if accepted:
        assert answer.status == 202, answer.body
        tasklane.drain("normal")
        assert result(tasklane, answer.body["task_id"]).body["result"] == {"deep": {"n": json.loads(number)}}
        return
    assert answer.status == 422, answer.body
    [detail] = answer.body["error"]["details"]
    assert detail["field"] == "payload.deep.n"
    assert "payload" not in detail["message"]


@pytest.mark.parametrize("field", ["max_attempts", "delay_seconds", "timeout_seconds"])
def test_nan_in_a_request_field_is_a_422_naming_it(tasklane, field):
    answer = submit_raw(tasklane, '{"task_type":"echo","' + field + '":NaN}')
    assert answer.status == 422, answer.body
    assert answer.body["error"]["details"][0]["field"] == field


def test_an_unpaired_surrogate_is_a_422(tasklane):
    answer = submit_raw(tasklane, '{"task_type":"echo","payload":{"s":"\\ud800"}}')
    assert answer.status == 422, answer.body
    assert "surrogate" in answer.body["error"]["details"][0]["message"]


def test_one_bad_item_never_fails_the_rest_of_a_batch(tasklane):
    items = [
        '{"task_type":"echo","payload":{"ok":1}}',
        '{"task_type":"echo","payload":{"n":NaN}}',
        nested(300)[:-1] + "}",  # hand-built: valid JSON, too deep
        '{"task_type":"echo","payload":{"n":' + "9" * 5000 + "}}",
        '{"task_type":"echo","payload":{"ok":2}}',
    ]
    answer = submit_raw(tasklane, '{"tasks":[' + ",".join(items) + "]}", name="submit_batch")
    assert answer.status == 202, answer.body
    outcome = ["task" if "task" in r else r["error"]["code"] for r in answer.body["results"]]
    assert outcome == ["task", "validation_error", "validation_error", "validation_error", "task"]
    assert tasklane.drain("normal") == 2


# --- bounded answers and idempotency records ---------------------------------------------------------


def _count(tasklane) -> int:
    pages = tasklane.dynamodb.get_paginator("scan").paginate(
        TableName=tasklane.stack.names["TasksTable"], Select="COUNT"
    )
    return sum(page["Count"] for page in pages)


def test_the_largest_batch_answers_under_6_mb_and_its_replay_creates_nothing(tasklane):
    """100 items filling the 5 MiB body with text that escapes worst (2-byte characters): the answer
    carries summaries and the idempotency record ids, so both stay small."""
    per_item = (MAX_BATCH_BODY_BYTES - 1000) // 100
    text = "é" * ((per_item - 60) // 2)
    body = json.dumps(
        {"tasks": [{"task_type": "echo", "payload": {"t": text}} for _ in range(100)]}, ensure_ascii=False
    )
    assert MAX_BATCH_BODY_BYTES - 5000 < len(body.encode()) <= MAX_BATCH_BODY_BYTES
    event = api_event("submit_batch", raw_body=body, headers={"Idempotency-Key": "largest-batch"})
    response = tasklane._submit.lambda_handler(event, tasklane.context)
    assert response["statusCode"] == 202
    assert len(json.dumps(response)) < 200_000  # as the Lambda runtime sends it; the limit is 6 MB
    first = json.loads(response["body"])["results"]
    assert all("task" in r and r["task"]["payload"] is None for r in first)
    assert _count(tasklane) == 100
    record = tasklane.dynamodb.scan(TableName=tasklane.stack.names["IdempotencyTable"])["Items"][0]
    assert item_size(record) < 20_000
    replay = tasklane._submit.lambda_handler(
        api_event("submit_batch", raw_body=body, headers={"Idempotency-Key": "largest-batch"}), tasklane.context
    )
    assert replay["statusCode"] == 202
    assert [r["task"]["task_id"] for r in json.loads(replay["body"])["results"]] == [
        r["task"]["task_id"] for r in first
    ]
    assert _count(tasklane) == 100
    assert len(tasklane.receive("normal")) == 10  # the first ten of the 100 messages: none added by the replay


def test_a_single_submit_with_a_large_payload_replays_without_storing_it_twice(tasklane):
    first = submit(tasklane, payload=blob(MAX_PAYLOAD_BYTES), key="big")
    again = submit(tasklane, payload=blob(MAX_PAYLOAD_BYTES), key="big")
    assert (first.status, again.status) == (202, 202)
    assert again.body["task_id"] == first.body["task_id"]
    assert _count(tasklane) == 1
    record = tasklane.dynamodb.scan(TableName=tasklane.stack.names["IdempotencyTable"])["Items"][0]
    assert item_size(record) < 2_000


def test_a_batch_whose_write_fails_part_way_answers_per_item_and_its_replay_duplicates_nothing(tasklane, monkeypatch):
    """The second chunk of 25 fails outright past the SDK's retries, after the first was written."""
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    calls = []
    original = aws.dynamodb().batch_write_item

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "BatchWriteItem")
        return original(**kwargs)

    monkeypatch.setattr(aws.dynamodb(), "batch_write_item", flaky)
    body = json.dumps({"tasks": [{"task_type": "echo", "payload": {"i": i}} for i in range(50)]})
    answer = submit_raw(tasklane, body, key="half", name="submit_batch")
    assert answer.status == 202, answer.body
    codes = ["task" if "task" in r else r["error"]["code"] for r in answer.body["results"]]
    assert codes == ["task"] * 25 + ["not_stored"] * 25
    assert _count(tasklane) == 25
    replay = submit_raw(tasklane, body, key="half", name="submit_batch")
    assert replay.body["results"] == [
        {**r, "task": {**r["task"], "updated_at": r["task"]["updated_at"]}} if "task" in r else r
        for r in answer.body["results"]
    ]
    assert _count(tasklane) == 25


# --- outcome writes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("max_attempts", [1, 3])
def test_an_outcome_write_refused_past_the_sdk_retries_is_retried_and_never_reruns_the_task(
    tasklane, monkeypatch, returning, max_attempts
):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    seen: list[str] = []
    returning["value"] = {"done": True}
    # Once the task has run, its completion write is throttled 8 times: past the SDK's 5 attempts.
    returning["hook"] = lambda: (
        seen.extend(["armed"]) or _throttle(aws.dynamodb(), "UpdateItem", "ThrottlingException", 8)
    )
    task_id = submit(tasklane, "returning", max_attempts=max_attempts).body["task_id"]
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["result"], task["attempts"]) == ("completed", {"done": True}, 1)
    assert returning["runs"] == 1


# --- lifecycle edges ----------------------------------------------------------------------------------


def test_a_duplicate_of_a_delayed_task_never_starts_it_early(tasklane):
    task_id = submit(tasklane, delay_seconds=120).body["task_id"]
    body = json.dumps({"task_id": task_id, "owner": ALICE, "attempt": 1, "timeout_seconds": 10})
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal"), MessageBody=body)  # a duplicate, early
    duplicate = tasklane.receive("normal")
    assert len(duplicate) == 1
    response = tasklane.process("normal", duplicate)
    assert response["batchItemFailures"] == [{"itemIdentifier": duplicate[0]["MessageId"]}]
    task = get(tasklane, task_id)
    assert (task["status"], task["attempts"]) == ("pending", 0)
    tasklane.pass_time(121)
    tasklane.process("normal", duplicate)
    assert get(tasklane, task_id)["status"] == "completed"


def test_two_claims_in_the_same_millisecond_never_both_run(tasklane, monkeypatch):
    from tasklane.data.services import services
    from tasklane.data.tasks.table import TransitionRejected
    from tasklane.model import clock

    task_id = submit(tasklane).body["task_id"]
    frozen = clock.now()
    store = services().store
    store.mark_processing(task_id, ALICE, frozen, clock.epoch(frozen) + 60)
    with pytest.raises(TransitionRejected):
        store.mark_processing(task_id, ALICE, frozen, clock.epoch(frozen) + 60)


def test_a_late_outcome_of_an_earlier_run_is_never_taken_for_the_retried_run(tasklane):
    from tasklane.data.services import services
    from tasklane.data.tasks.codec import StoredValue
    from tasklane.data.tasks.table import TransitionRejected
    from tasklane.model import clock
    from tasklane.model.task import TaskError

    task_id = submit(tasklane, max_attempts=1).body["task_id"]
    store = services().store
    now = clock.now()
    store.mark_processing(task_id, ALICE, now, clock.epoch(now) - 1)  # attempt 1: its lease runs out
    store.mark_failed(task_id, TaskError("TaskStuck", "lost"), clock.now())
    assert tasklane.call(api_event("retry_task", task_id=task_id)).status == 202
    store.mark_processing(task_id, ALICE, clock.now(), clock.epoch(clock.now()) + 60)  # attempt 2 runs
    with pytest.raises(TransitionRejected):
        store.mark_completed(task_id, 1, StoredValue(4, text='"old"'), clock.now())  # attempt 1 wakes up
    assert get(tasklane, task_id)["status"] == "processing"


@pytest.mark.parametrize("action", ["cancel_task", "retry_task"])
def test_cancel_and_retry_recognise_their_own_write_when_only_the_answer_was_lost(tasklane, monkeypatch, action):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    if action == "retry_task":
        task_id = submit(tasklane, "fail", max_attempts=1).body["task_id"]
        tasklane.drain("normal")
    else:
        task_id = submit(tasklane, delay_seconds=60).body["task_id"]
    seen = _throttle(aws.dynamodb(), "UpdateItem", "ThrottlingException", 1, applied=True)
    answer = tasklane.call(api_event(action, task_id=task_id))
    assert len(seen) == 1
    assert answer.status == (200 if action == "cancel_task" else 202), answer.body
    if action == "retry_task":
        assert answer.headers.get("tasklane-queued") != "false"
        assert [json.loads(m["Body"])["task_id"] for m in tasklane.receive("normal")] == [task_id]


def test_a_redrive_whose_answer_was_lost_still_sends_the_task(tasklane, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    from tasklane.data import aws

    task_id = submit(tasklane).body["task_id"]
    message = tasklane.receive("normal")[0]
    tasklane.sqs.delete_message(QueueUrl=tasklane.queue_url("normal"), ReceiptHandle=message["ReceiptHandle"])
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=message["Body"])
    _throttle(aws.dynamodb(), "UpdateItem", "ThrottlingException", 1, applied=True)
    tasklane.dead_letters("normal")
    assert [json.loads(m["Body"])["task_id"] for m in tasklane.receive("normal")] == [task_id]


def test_the_reconciler_sends_the_task_timeout_and_goes_on_after_a_failed_send(tasklane, monkeypatch):
    from tasklane.data.queues import LaneQueues, QueueUnavailable

    ids = [submit(tasklane, "compute", {"n": 1}, timeout_seconds=25).body["task_id"] for _ in range(2)]
    for message in tasklane.receive("normal"):  # both messages are lost
        tasklane.sqs.delete_message(QueueUrl=tasklane.queue_url("normal"), ReceiptHandle=message["ReceiptHandle"])
    for task_id in ids:
        _make_due(tasklane, task_id)
    original, calls = LaneQueues.send, []

    def first_fails(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise QueueUnavailable("SendMessage failed: down")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LaneQueues, "send", first_fails)
    report = tasklane.reconcile()
    assert (report["requeued"], report["errors"]) == (1, 1)
    [sent] = tasklane.receive("normal")
    assert json.loads(sent["Body"])["timeout_seconds"] == 25
    tasklane.process("normal", [sent])
    assert tasklane.reconcile()["requeued"] == 1  # the one whose send failed is due again at once
    tasklane.drain("normal")
    assert {get(tasklane, t)["status"] for t in ids} == {"completed"}


# --- demo task types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("task_type", "offered"), [("fail", False), ("sleep", False), ("blob", False), ("echo", True)])
def test_demo_task_types_are_not_offered_unless_the_stack_asks(tasklane, monkeypatch, task_type, offered):
    reconfigure(tasklane, monkeypatch, DEMO_TASK_TYPES="false")
    payload = {"seconds": 0} if task_type == "sleep" else {"size": 1} if task_type == "blob" else {}
    answer = submit(tasklane, task_type, payload)
    assert answer.status == (202 if offered else 422), answer.body
    if not offered:
        assert "unknown task type" in answer.body["error"]["details"][0]["message"]


def test_a_demo_task_already_queued_fails_cleanly_where_demo_types_are_off(tasklane, monkeypatch):
    task_id = submit(tasklane, "fail", {"mode": "crash"}).body["task_id"]
    reconfigure(tasklane, monkeypatch, DEMO_TASK_TYPES="false")
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["error"]["type"]) == ("failed", "UnknownTaskType")
