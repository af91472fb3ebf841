"""Results over what a target can answer with (a Lambda's answer is at most 6 MB): the envelope carries
a presigned PUT URL (`result_upload`); the target PUTs its result's JSON there and answers
{"tasklane": "result_uploaded"}; the task's result is that object, within the result limit. The PUTs
go to moto's S3 through its presigned URLs (nothing leaves the machine)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.events import api_event
from tests.functional.task_types_helpers import definition, put_type, submit
from tests.functional.test_async_targets import finish
from tests.functional.test_targets import ARN, Functions, Receiver, read

UPLOADED = b'{"tasklane": "result_uploaded"}'
SIX_MB = 6 * 1024 * 1024


class UploadingFunctions(Functions):
    """A target function that PUTs `upload` (when given) to its envelope's result_upload URL, then
    answers as `answers` say."""

    def __init__(self) -> None:
        super().__init__()
        self.upload: bytes | None = None
        self.put_statuses: list[int] = []

    def invoke(self, FunctionName, InvocationType, Payload):
        event = json.loads(Payload)
        if self.upload is not None:
            place = event["result_upload"]
            assert place["method"] == "PUT"
            self.put_statuses.append(requests.put(place["url"], data=self.upload, timeout=30).status_code)
        return super().invoke(FunctionName, InvocationType, Payload)


@pytest.fixture
def functions(tasklane, monkeypatch):
    monkeypatch.setenv("TARGET_FUNCTION_ARNS", "arn:aws:lambda:us-east-1:123456789012:function:orders-*")
    from tasklane.data import aws
    from tasklane.settings.task_types import task_type_settings

    task_type_settings.cache_clear()
    fake = UploadingFunctions()
    client = lambda: fake  # noqa: E731
    client.cache_clear = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setattr(aws, "lambda_client", client)
    put_type(tasklane, "job", definition(target={"lambda": ARN}))
    put_type(tasklane, "later", definition(target={"lambda": ARN}, mode="async", max_attempts=1))
    fake.answers = [{"payload": UPLOADED}]
    return fake


def _run(system, task_type="job"):
    answer = submit(system, task_type, {"width": 3})
    assert answer.status == 202, answer.body
    system.drain(answer.body["priority"])
    return answer.body["task_id"]


def _limit():
    from tasklane.data.services import services

    return services().settings.max_result_bytes


def _result_object(system, task_id):
    """The task's result as GET /tasks/{id}/result gives it: inline, or the object its 303 names."""
    answer = system.call(api_event("get_result", task_id=task_id))
    if answer.status == 303:
        return json.loads(requests.get(answer.headers["location"], timeout=30).content)
    assert answer.status == 200, answer.body
    return answer.body["result"]


def test_a_lambda_target_uploads_a_result_over_six_mb(tasklane, functions):
    big = {"frames": ["x" * 1000] * (SIX_MB // 1000 + 500)}  # ~6.5 MB of JSON
    functions.upload = json.dumps(big).encode()
    task_id = _run(tasklane)
    assert functions.put_statuses == [200]
    envelope = functions.calls[0][1]
    assert envelope["result_upload"]["max_bytes"] == _limit()
    task = read(tasklane, task_id)
    assert task["status"] == "completed", task
    assert task["result_size"] == len(functions.upload) > SIX_MB
    assert tasklane.item(task_id)["result_key"]["S"] == f"results/{task_id}/1.json"
    assert _result_object(tasklane, task_id) == big


def test_a_small_uploaded_result_is_kept_inline(tasklane, functions):
    functions.upload = b'{"frames": 240}'
    task = read(tasklane, _run(tasklane))
    assert (task["status"], task["result"]) == ("completed", {"frames": 240})


@pytest.mark.parametrize(("extra", "status"), [(-1, "completed"), (0, "completed"), (1, "failed")])
def test_an_uploaded_result_at_the_limit_is_kept_and_one_byte_over_fails_the_task(tasklane, functions, extra, status):
    size = _limit() + extra
    functions.upload = json.dumps("y" * (size - 2)).encode()
    assert len(functions.upload) == size
    task = read(tasklane, _run(tasklane))
    assert task["status"] == status, task
    if status == "failed":
        assert task["error"]["type"] == "ResultTooLarge"
        assert task["error"]["message"] == f"the uploaded result is {size} bytes; the limit is {size - 1}"
    else:
        assert task["result_size"] == size


def test_an_answer_of_result_uploaded_with_nothing_uploaded_is_a_failed_attempt(tasklane, functions):
    task = read(tasklane, _run(tasklane))
    assert (task["status"], task["attempts"]) == ("pending", 1), task  # retried with backoff
    assert task["error"] == {
        "type": "ResultUploadMissing",
        "message": "the target answered result_uploaded, but nothing was PUT to its result_upload url",
    }


def test_an_uploaded_result_that_is_not_json_is_a_failed_attempt(tasklane, functions):
    functions.upload = b"<html>not json</html>"
    task = read(tasklane, _run(tasklane))
    assert task["status"] == "pending"
    assert task["error"] == {
        "type": "ResultUploadNotJSON",
        "message": "the uploaded result is not JSON: <html>not json</html>",
    }


def test_a_sync_url_target_answers_in_its_body_and_gets_no_upload_url(tasklane, monkeypatch):
    """Its body carries the whole result (up to the limit): no presigned PUT, so its processor never
    makes an S3 client for one; an answer of result_uploaded then has nothing behind it."""
    monkeypatch.setenv("CALLBACK_ALLOW_LOOPBACK", "true")
    from tasklane.settings.webhooks import webhook_settings

    webhook_settings.cache_clear()
    receiver = Receiver()
    try:
        receiver.answers = [(200, {"Content-Type": "application/json"}, UPLOADED, 0)]
        put_type(tasklane, "render", definition(target={"url": receiver.url}))
        task_id = _run(tasklane, "render")
        assert "result_upload" not in receiver.envelope()
        task = read(tasklane, task_id)
        assert (task["status"], task["error"]["type"]) == ("pending", "ResultUploadMissing")
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def test_an_async_worker_completes_with_an_uploaded_result(tasklane, functions):
    functions.answers = [{"payload": b'{"tasklane": "accepted"}'}]
    task_id = _run(tasklane, "later")
    envelope = functions.calls[0][1]
    token = envelope["completion"]["token"]
    missing = finish(tasklane, "complete", task_id, {"token": token, "result": {"tasklane": "result_uploaded"}})
    assert missing.status == 422, missing.body
    assert missing.body["error"]["details"][0]["message"] == (
        "the target answered result_uploaded, but nothing was PUT to its result_upload url; "
        "PUT the result there, then complete again"
    )
    assert read(tasklane, task_id)["status"] == "processing"  # nothing lost: the worker can still finish
    big = ["z" * 1000] * (SIX_MB // 1000 + 10)
    assert requests.put(envelope["result_upload"]["url"], data=json.dumps(big), timeout=30).status_code == 200
    done = finish(tasklane, "complete", task_id, {"token": token, "result": {"tasklane": "result_uploaded"}})
    assert done.status == 200, done.body
    assert read(tasklane, task_id)["status"] == "completed"
    assert _result_object(tasklane, task_id) == big


def test_the_envelope_round_trips_its_result_upload():
    from tasklane.model.envelope import Completion, Envelope, ResultUpload

    envelope = Envelope(
        task_id="t",
        task_type="job",
        attempt=2,
        max_attempts=3,
        deadline="2026-01-01T00:00:00.000Z",
        payload={"a": 1},
        completion=Completion("tok", "c", "f", "h", "u"),
        result_upload=ResultUpload("https://bucket.example/key?sig", 10 * 1024 * 1024),
    )
    assert Envelope.from_json(envelope.to_json()) == envelope
    assert json.loads(envelope.to_json())["result_upload"] == {
        "url": "https://bucket.example/key?sig",
        "method": "PUT",
        "max_bytes": 10 * 1024 * 1024,
    }
