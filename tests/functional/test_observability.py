"""What operators see: one correlation id from the API request to the processor's logs, and the
metrics (EMF) a processed task emits, per lane and task type."""

from __future__ import annotations

import io
import json

import pytest

from tests.events import api_event


@pytest.fixture
def log_output():
    """The JSON log records the handlers write (the Logger keeps the stream it was created with)."""
    from tasklane.observability import logger

    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    yield buffer
    logger.registered_handler.setStream(previous)


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_the_submit_requests_correlation_id_reaches_the_processors_log_records(tasklane, log_output):
    event = api_event(
        "submit_task", body={"task_type": "echo", "payload": {"secret": "s3cr3t"}}, headers={"Idempotency-Key": None}
    )
    event["requestContext"]["requestId"] = "req-7f3a9c"
    task_id = tasklane.call(event).body["task_id"]
    message = tasklane.receive("normal")[0]
    assert message["MessageAttributes"]["correlation_id"]["StringValue"] == "req-7f3a9c"
    tasklane.process("normal", [message])
    logs = [r for r in _records(log_output.getvalue()) if "level" in r]
    task_logs = [r for r in logs if r.get("task_id") == task_id]
    assert "task completed" in {r["message"] for r in task_logs}
    assert all(r["correlation_id"] == "req-7f3a9c" for r in task_logs)
    assert not any("s3cr3t" in json.dumps(r) for r in logs)  # payloads are not logged


def test_a_processed_task_emits_its_metrics_by_lane_and_type(tasklane, capfd):
    tasklane.call(
        api_event(
            "submit_task",
            body={"task_type": "compute", "payload": {"n": 10}, "priority": "high"},
            headers={"Idempotency-Key": None},
        )
    )
    tasklane.drain("high")
    metrics = {}
    for record in _records(capfd.readouterr().out):
        if "_aws" not in record:
            continue
        directive = record["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "tasklane"
        assert {"lane", "task_type"} <= set(directive["Dimensions"][0])
        for metric in directive["Metrics"]:
            metrics[metric["Name"]] = (record["lane"], record["task_type"], metric["Unit"], record[metric["Name"]])
    assert metrics["TaskSubmitted"][:3] == ("high", "compute", "Count")
    assert metrics["TaskStarted"][:3] == ("high", "compute", "Count")
    assert metrics["TaskCompleted"][:3] == ("high", "compute", "Count")
    assert metrics["TaskDuration"][:3] == ("high", "compute", "Milliseconds")
    assert metrics["QueueWait"][:3] == ("high", "compute", "Milliseconds")


def test_failures_retries_and_dead_letters_are_counted(tasklane, capfd):
    tasklane.call(
        api_event("submit_task", body={"task_type": "fail", "max_attempts": 2}, headers={"Idempotency-Key": None})
    )
    messages = tasklane.receive("normal")
    tasklane.process("normal", messages)  # attempt 1 fails: retried
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=messages[0]["Body"])
    tasklane.dead_letters("normal")  # pending, never claimed again: redriven on a fresh message
    from tests.functional.test_lifecycle import _crashed

    tasklane.pass_time(900)  # the backoff ends
    _crashed(json.loads(messages[0]["Body"])["task_id"])
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=messages[0]["Body"])
    tasklane.dead_letters("normal")  # its run died: failed
    names = [
        m["Name"]
        for r in _records(capfd.readouterr().out)
        if "_aws" in r
        for m in r["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    ]
    assert "TaskRetried" in names
    assert "TaskRedriven" in names
    assert "TaskDeadLettered" in names


def test_the_payload_is_logged_only_with_debug_logging_on(tasklane, log_output):
    from tasklane.observability import logger

    def run_one(secret: str) -> str:
        body = {"task_type": "echo", "payload": {"secret": secret}}
        tasklane.call(api_event("submit_task", body=body, headers={"Idempotency-Key": None}))
        tasklane.drain("normal")
        return log_output.getvalue()

    assert "at-info" not in run_one("at-info")
    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        assert "at-debug" in run_one("at-debug")
    finally:
        logger.setLevel(previous)


def test_traces_never_carry_a_handlers_answer(monkeypatch):
    """With tracing on, a handler's answer (payloads, results, webhook secrets) is not put in its trace."""
    from aws_lambda_powertools import Tracer

    from tasklane.observability import traced

    seen = {}

    def capture(self, handler, **options):
        seen.update(options)
        return handler

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    monkeypatch.setattr(Tracer, "capture_lambda_handler", capture)
    traced(lambda event, context: event)
    assert seen["capture_response"] is False
