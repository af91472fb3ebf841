"""The task lifecycle through the processor, dead-letter and reconciler handlers."""

from __future__ import annotations

import json

from tasklane.logic.running import BACKOFF_CAP_SECONDS
from tests.events import ALICE, api_event


def submit(tasklane, task_type="echo", payload=None, **fields):
    body = {"task_type": task_type, "payload": payload or {}, **fields}
    answer = tasklane.call(api_event("submit_task", body=body, headers={"Idempotency-Key": None}))
    assert answer.status == 202, answer.body
    return answer


def get(tasklane, task_id):
    return tasklane.call(api_event("get_task", task_id=task_id)).body


def redeliver_now(tasklane, lane, messages):
    """The backoff has passed: the messages are visible again, and the task is due."""
    tasklane.pass_time(BACKOFF_CAP_SECONDS + 1)
    for message in messages:
        tasklane.sqs.change_message_visibility(
            QueueUrl=tasklane.queue_url(lane), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )


def test_a_task_goes_pending_processing_completed(tasklane):
    task_id = submit(tasklane, "compute", {"n": 1_000_000}).body["task_id"]
    assert get(tasklane, task_id)["status"] == "pending"
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "completed"
    assert task["result"] == 499999500000
    assert task["attempts"] == 1
    assert task["created_at"] <= task["started_at"] <= task["finished_at"]
    assert "expires_at" in tasklane.item(task_id)  # finished tasks expire after the retention period
    assert "sweep_at" not in tasklane.item(task_id)  # and leave the reconciler's index


def test_the_same_message_delivered_twice_runs_the_task_once(tasklane):
    task_id = submit(tasklane, "send_email", {"to": "ada@example.com", "subject": "hi"}).body["task_id"]
    message = tasklane.receive("normal")
    duplicate = [dict(message[0], MessageId="duplicate-delivery")]
    tasklane.process("normal", message)
    finished = get(tasklane, task_id)
    response = tasklane.process("normal", duplicate)
    assert response["batchItemFailures"] == []  # acknowledged
    assert get(tasklane, task_id) == finished
    assert finished["attempts"] == 1


def test_a_duplicate_while_the_task_runs_is_deferred_not_run(tasklane, visibility_calls):
    task_id = submit(tasklane).body["task_id"]
    message = tasklane.receive("normal")[0]
    from tasklane.data.services import services
    from tasklane.model import clock

    now = clock.now()
    services().store.mark_processing(task_id, ALICE, now, clock.epoch(now) + 60)
    response = tasklane.process("normal", [message])
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [message["MessageId"]]
    assert 55 <= visibility_calls[-1] <= 62  # until the running attempt's lease ends
    assert get(tasklane, task_id)["attempts"] == 1


def test_a_cancel_before_the_processor_wins_and_the_task_never_runs(tasklane):
    task_id = submit(tasklane).body["task_id"]
    assert tasklane.call(api_event("cancel_task", task_id=task_id)).status == 200
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "cancelled"
    assert task["attempts"] == 0
    assert task["started_at"] is None


def test_a_cancel_after_the_processor_claimed_the_task_is_409(tasklane):
    task_id = submit(tasklane, "sleep", {"seconds": 0}).body["task_id"]
    from tasklane.data.services import services
    from tasklane.model import clock

    now = clock.now()
    services().store.mark_processing(task_id, ALICE, now, clock.epoch(now) + 60)
    answer = tasklane.call(api_event("cancel_task", task_id=task_id))
    assert answer.status == 409
    assert answer.body["error"]["details"]["status"] == "processing"


def test_a_failing_task_is_retried_with_growing_backoff_then_failed(tasklane, visibility_calls):
    task_id = submit(tasklane, "fail", {"message": "boom"}, max_attempts=4).body["task_id"]
    for attempt in range(1, 5):
        messages = tasklane.receive("normal")
        assert len(messages) == 1, f"attempt {attempt} was not redelivered"
        response = tasklane.process("normal", messages)
        task = get(tasklane, task_id)
        assert task["attempts"] == attempt
        assert task["error"] == {"type": "IntentionalFailure", "message": "boom"}
        if attempt < 4:
            assert task["status"] == "pending"
            assert response["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
            redeliver_now(tasklane, "normal", messages)
    assert task["status"] == "failed"
    assert task["attempts"] == task["max_attempts"] == 4
    assert len(visibility_calls) == 3
    assert visibility_calls == sorted(visibility_calls)
    assert visibility_calls[-1] > visibility_calls[0]
    assert tasklane.receive("normal") == []


def test_a_task_that_succeeds_on_a_later_attempt_completes(tasklane):
    task_id = submit(tasklane, "fail", {"succeed_on_attempt": 2}).body["task_id"]
    messages = tasklane.receive("normal")
    tasklane.process("normal", messages)
    redeliver_now(tasklane, "normal", messages)
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "completed"
    assert task["result"] == {"succeeded_on_attempt": 2}
    assert task["error"] is None


def test_a_retry_on_the_last_receive_before_the_dlq_continues_on_a_fresh_message(tasklane, visibility_calls):
    """maxReceiveCount (5) counts crashes: a task with 10 attempts must not reach the DLQ on its 5th."""
    task_id = submit(tasklane, "fail", max_attempts=10).body["task_id"]
    message = tasklane.receive("normal")[0]
    message["Attributes"]["ApproximateReceiveCount"] = "4"
    response = tasklane.process("normal", [message])
    assert response["batchItemFailures"] == []  # this delivery is acknowledged...
    assert visibility_calls == []
    attributes = tasklane.sqs.get_queue_attributes(QueueUrl=tasklane.queue_url("normal"), AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # ...and a fresh one waits out the backoff
    task = get(tasklane, task_id)
    assert (task["status"], task["attempts"]) == ("pending", 1)


def test_a_task_over_its_timeout_fails_that_attempt(tasklane):
    task_id = submit(tasklane, "sleep", {"seconds": 5}, timeout_seconds=1, max_attempts=1).body["task_id"]
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "failed"
    assert task["error"]["type"] == "TaskTimedOut"
    assert task["attempts"] == 1


def test_progress_is_recorded_while_a_task_runs(tasklane):
    task_id = submit(tasklane, "generate_report", {"report": "sales", "rows": 1000}).body["task_id"]
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "completed"
    assert task["progress"] == {"percent": 100.0, "message": "section 5 of 5"}


def test_a_delivery_without_enough_time_left_is_put_back_unstarted(tasklane, visibility_calls):
    task_id = submit(tasklane, "sleep", {"seconds": 0}, timeout_seconds=120).body["task_id"]
    tasklane.context.remaining_ms = 60_000
    messages = tasklane.receive("normal")
    response = tasklane.process("normal", messages)
    assert len(response["batchItemFailures"]) == 1
    assert visibility_calls == [0]
    assert get(tasklane, task_id)["attempts"] == 0


def test_a_crashed_run_is_taken_over_once_its_lease_expires(tasklane):
    task_id = submit(tasklane).body["task_id"]
    from tasklane.data.services import services
    from tasklane.model import clock

    now = clock.now()
    services().store.mark_processing(task_id, ALICE, now, clock.epoch(now) - 1)  # lease over
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "completed"
    assert task["attempts"] == 2


def test_malformed_messages_are_acknowledged_without_poisoning_the_batch(tasklane):
    task_id = submit(tasklane).body["task_id"]
    good = tasklane.receive("normal")[0]
    bad = [
        {"Body": "not json", "ReceiptHandle": "r1", "MessageId": "m1"},
        {
            "Body": json.dumps({"task_id": "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", "owner": ALICE, "attempt": 1}),
            "ReceiptHandle": "r2",
            "MessageId": "m2",
        },
        {
            "Body": json.dumps({"task_id": task_id, "owner": "arn:aws:iam::123456789012:user/mallory", "attempt": 1}),
            "ReceiptHandle": "r3",
            "MessageId": "m3",
        },
    ]
    from tests.events import sqs_event

    response = tasklane._processor.lambda_handler(sqs_event([*bad, good]), tasklane.context)
    assert response["batchItemFailures"] == []
    assert get(tasklane, task_id)["status"] == "completed"


def test_a_batch_where_every_record_is_deferred_is_answered_not_raised(tasklane, visibility_calls):
    for _ in range(3):
        submit(tasklane, "sleep", {"seconds": 0}, timeout_seconds=200)
    tasklane.context.remaining_ms = 10_000
    messages = tasklane.receive("normal")
    response = tasklane.process("normal", messages)
    assert len(response["batchItemFailures"]) == 3


def _crashed(task_id, lease_offset=-1):
    """Leave the task as a run that died would: processing, its lease over."""
    from tasklane.data.services import services
    from tasklane.model import clock

    now = clock.now()
    services().store.mark_processing(task_id, ALICE, now, clock.epoch(now) + lease_offset)


def test_a_dead_letter_of_a_task_whose_runs_kept_dying_fails_it_with_the_reason(tasklane):
    task_id = submit(tasklane).body["task_id"]
    message = tasklane.receive("normal")[0]
    _crashed(task_id)
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=message["Body"])
    response = tasklane.dead_letters("normal")
    assert response["batchItemFailures"] == []
    task = get(tasklane, task_id)
    assert task["status"] == "failed"
    assert task["error"]["type"] == "DeadLettered"
    # The counts the message gives agree with the task's own attempts (no "each of 5" beside "1/3").
    message = task["error"]["message"]
    assert "gave up on the task's message after 5 deliveries" in message
    assert f"started {task['attempts']} of its {task['max_attempts']} attempts" in message
    assert "each of" not in message


def test_a_dead_letter_of_a_task_that_never_ran_queues_it_again_then_fails_it_after_three(tasklane):
    task_id = submit(tasklane).body["task_id"]
    message = tasklane.receive("normal")[0]
    for redrive in range(1, 4):
        tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=message["Body"])
        tasklane.dead_letters("normal")
        assert get(tasklane, task_id)["status"] == "pending"
        assert int(tasklane.item(task_id)["redrives"]["N"]) == redrive
        fresh = tasklane.receive("normal")
        assert [json.loads(m["Body"])["task_id"] for m in fresh] == [task_id]
        message = fresh[0]
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=message["Body"])
    tasklane.dead_letters("normal")
    task = get(tasklane, task_id)
    assert (task["status"], task["error"]["type"]) == ("failed", "DeadLettered")
    assert "without ever being claimed" in task["error"]["message"]


def test_a_dead_letter_of_a_finished_task_changes_nothing(tasklane):
    task_id = submit(tasklane).body["task_id"]
    message = tasklane.receive("normal")[0]
    tasklane.process("normal", [message])
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=message["Body"])
    tasklane.dead_letters("normal")
    assert get(tasklane, task_id)["status"] == "completed"


def test_a_failed_send_is_answered_honestly_and_the_reconciler_queues_the_task_once(tasklane, monkeypatch):
    from tasklane.data.queues import LaneQueues, QueueUnavailable

    def broken_send(*args, **kwargs):
        raise QueueUnavailable("SendMessage failed: SQS is down")

    with monkeypatch.context() as patch:
        patch.setattr(LaneQueues, "send", broken_send)
        answer = submit(tasklane)
    assert answer.status == 202
    assert answer.headers["tasklane-queued"] == "false"
    task_id = answer.body["task_id"]
    assert tasklane.receive("normal") == []
    assert tasklane.item(task_id)["unsent"] == {"BOOL": True}  # the failed send is noted: due at once
    first, second = tasklane.reconcile(), tasklane.reconcile()
    assert (first["requeued"], second["requeued"]) == (1, 0)
    assert "unsent" not in tasklane.item(task_id)
    messages = tasklane.receive("normal")
    assert len(messages) == 1
    tasklane.process("normal", messages)
    assert get(tasklane, task_id)["status"] == "completed"


def test_a_due_task_in_a_busy_lane_waits_instead_of_being_sent_twice(tasklane):
    waiting = [submit(tasklane).body["task_id"] for _ in range(2)]  # both messages still queued
    _make_due(tasklane, waiting[0])
    report = tasklane.reconcile()
    assert (report["requeued"], report["waiting"]) == (0, 1)
    assert len(tasklane.receive("normal")) == 2  # no duplicate was added


def test_a_due_task_in_an_idle_lane_is_sent_again(tasklane):
    task_id = submit(tasklane).body["task_id"]
    for message in tasklane.receive("normal"):  # its message is lost
        tasklane.sqs.delete_message(QueueUrl=tasklane.queue_url("normal"), ReceiptHandle=message["ReceiptHandle"])
    _make_due(tasklane, task_id)
    assert tasklane.reconcile()["requeued"] == 1
    tasklane.drain("normal")
    assert get(tasklane, task_id)["status"] == "completed"


def test_the_reconciler_fails_a_task_stuck_processing_past_its_deadline(tasklane):
    task_id = submit(tasklane).body["task_id"]
    tasklane.receive("normal")  # the message is lost with the crashed run
    from tasklane.data.services import services
    from tasklane.model import clock

    now = clock.now()
    services().store.mark_processing(task_id, ALICE, now, clock.epoch(now) - 100)
    _make_due(tasklane, task_id)
    assert tasklane.reconcile()["failed"] == 0  # its redelivery may still come: the sweep moves on
    assert int(tasklane.item(task_id)["sweep_at"]["N"]) == clock.epoch(now) - 100 + 1800
    tasklane.dynamodb.update_item(
        TableName=tasklane.stack.names["TasksTable"],
        Key={"task_id": {"S": task_id}},
        UpdateExpression="SET lease_until = :long_ago, sweep_at = :past",
        ExpressionAttributeValues={":long_ago": {"N": str(clock.epoch(now) - 4000)}, ":past": {"N": "0"}},
    )
    assert tasklane.reconcile()["failed"] == 1
    assert tasklane.reconcile()["failed"] == 0
    task = get(tasklane, task_id)
    assert task["status"] == "failed"
    assert task["error"]["type"] == "TaskStuck"


def test_an_explicit_retry_runs_a_failed_task_again_with_a_fresh_budget_of_attempts(tasklane):
    task_id = submit(tasklane, "fail", max_attempts=1).body["task_id"]
    tasklane.drain("normal")
    assert get(tasklane, task_id)["status"] == "failed"
    answer = tasklane.call(api_event("retry_task", task_id=task_id))
    assert answer.status == 202
    # Attempts keep counting across explicit retries; the budget grows by the task's max_attempts.
    assert (answer.body["attempts"], answer.body["max_attempts"]) == (1, 2)
    assert answer.body["error"] is None
    tasklane.drain("normal")
    task = get(tasklane, task_id)
    assert task["status"] == "failed"
    assert (task["attempts"], task["max_attempts"]) == (2, 2)


def _make_due(tasklane, task_id):
    tasklane.dynamodb.update_item(
        TableName=tasklane.stack.names["TasksTable"],
        Key={"task_id": {"S": task_id}},
        UpdateExpression="SET sweep_at = :past",
        ExpressionAttributeValues={":past": {"N": "0"}},
    )


def test_a_dead_letter_leaves_a_task_that_is_running_right_now_alone(tasklane):
    task_id = submit(tasklane).body["task_id"]
    message = tasklane.receive("normal")[0]
    from tasklane.data.services import services
    from tasklane.model import clock

    now = clock.now()
    services().store.mark_processing(task_id, ALICE, now, clock.epoch(now) + 60)
    tasklane.sqs.send_message(QueueUrl=tasklane.queue_url("normal", dead=True), MessageBody=message["Body"])
    response = tasklane.dead_letters("normal")
    assert len(response["batchItemFailures"]) == 1  # looked at again once the run's lease is over
    assert get(tasklane, task_id)["status"] == "processing"
