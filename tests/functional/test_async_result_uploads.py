"""An async worker's large result: it asks POST /tasks/{id}/result-upload (its token alone) for a
presigned PUT signed at that moment, PUTs the result there and completes with {"tasklane":
"result_uploaded"}. The envelope's own result_upload was signed when the attempt started, by
credentials that may have expired days before a long attempt ends. The PUTs go to moto's S3 (nothing
leaves the machine)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.events import api_event
from tests.functional import test_async_targets as async_targets
from tests.functional.test_async_targets import Frozen, finish, lease_of, start
from tests.functional.test_targets import read

# The async types' fixtures: a receiver on 127.0.0.1 that accepts, the API as API Gateway serves the
# token routes.
receiver, bridge = async_targets.receiver, async_targets.bridge

UPLOADED = {"tasklane": "result_uploaded"}


def _ask(system, task_id, token):
    return finish(system, "result-upload", task_id, {"token": token})


def _expires_in(url: str) -> int:
    return int(parse_qs(urlparse(url).query)["X-Amz-Expires"][0])


def test_a_worker_asks_for_a_fresh_url_days_later_puts_its_result_and_completes_with_it(tasklane, receiver):
    from tasklane.data.services import services
    from tasklane.model import clock

    task_id, envelope = start(tasklane, receiver, timeout_seconds=3 * 24 * 3600)
    token = envelope["completion"]["token"]
    assert envelope["completion"]["result_upload_url"].endswith(f"/tasks/{task_id}/result-upload")
    tasklane.pass_time(2 * 24 * 3600)  # two days into a three-day attempt
    answer = _ask(tasklane, task_id, token)
    assert answer.status == 200, answer.body
    place = answer.body
    assert set(place) == {"task_id", "url", "method", "max_bytes", "expires_at"}
    assert (place["task_id"], place["method"]) == (task_id, "PUT")
    assert place["max_bytes"] == services().settings.max_result_bytes
    assert urlparse(place["url"]).path.endswith(f"results/{task_id}/1.json")  # this attempt's own key
    assert _expires_in(place["url"]) == 3600
    expires = datetime.fromisoformat(place["expires_at"])
    assert abs(expires - (clock.now() + timedelta(seconds=3600))) < timedelta(seconds=5)
    result = {"frames": ["f" * 1000] * 300}
    assert requests.put(place["url"], data=json.dumps(result), timeout=30).status_code == 200
    done = finish(tasklane, "complete", task_id, {"token": token, "result": UPLOADED})
    assert done.status == 200, done.body
    task = read(tasklane, task_id)
    assert (task["status"], task["result_size"]) == ("completed", len(json.dumps(result)))
    assert tasklane.item(task_id).get("result_key") is not None  # kept in the bucket, as uploaded
    assert tasklane.call(api_event("get_result", task_id=task_id)).body["result"] == result


@pytest.mark.parametrize("left", [1, 3599, 3600, 3601])
def test_the_url_never_outlives_the_attempts_lease(tasklane, receiver, monkeypatch, left):
    frozen = Frozen(monkeypatch)
    task_id, envelope = start(tasklane, receiver, timeout_seconds=7200, heartbeat_seconds=3900)
    frozen.at(lease_of(tasklane, task_id) - left)
    answer = _ask(tasklane, task_id, envelope["completion"]["token"])
    frozen.release()
    assert answer.status == 200, answer.body
    assert _expires_in(answer.body["url"]) == min(left, 3600)


def test_a_wrong_stale_or_spent_token_gets_no_url(tasklane, receiver):
    task_id, envelope = start(tasklane, receiver, max_attempts=2)
    first = envelope["completion"]["token"]
    assert _ask(tasklane, task_id, "not-the-token").status == 404
    assert _ask(tasklane, "00000000-0000-4000-8000-000000000000", first).status == 404
    assert finish(tasklane, "result-upload", task_id, {}).status == 422  # no token at all
    body = {"token": first, "error": {"type": "Crashed", "message": "x"}, "retry": True}
    assert finish(tasklane, "fail", task_id, body).status == 200  # the attempt is over: retried
    stale = _ask(tasklane, task_id, first)
    assert (stale.status, stale.body["error"]["code"]) == (409, "invalid_transition")
    assert read(tasklane, task_id)["status"] == "pending"  # nothing changed by asking


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def s3_by_moto(monkeypatch):
    """The worker helper's urllib calls: to the bridge on 127.0.0.1 as they are, to S3 through moto
    (its presigned URLs name AWS's host: no request may leave the machine)."""
    from tasklane_client import worker

    real = urllib.request.urlopen
    puts = []

    def urlopen(request, timeout=None):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        if urlparse(url).hostname in ("127.0.0.1", "localhost"):
            return real(request, timeout=timeout)
        assert urlparse(url).hostname.endswith(".amazonaws.com"), url
        answer = requests.request(request.get_method(), url, data=request.data, timeout=30)  # moto answers
        puts.append((request.get_method(), answer.status_code, len(request.data or b"")))
        if answer.status_code >= 400:
            raise urllib.error.HTTPError(url, answer.status_code, answer.reason, answer.headers, io.BytesIO())
        return _Response(answer.content)

    monkeypatch.setattr(worker.urllib.request, "urlopen", urlopen)
    return puts


def test_the_worker_helper_uploads_a_result_and_completes_by_reference(tasklane, receiver, bridge, s3_by_moto):
    from tasklane_client import worker

    task_id, envelope = start(tasklane, receiver, timeout_seconds=3600)
    attempt = envelope["completion"]
    result = ["r" * 1000] * 2000  # 2 MB
    worker.upload_result(task_id, attempt, result)
    assert s3_by_moto == [("PUT", 200, len(json.dumps(result)))]
    assert worker.complete(task_id, attempt, worker.RESULT_UPLOADED)["status"] == "completed"
    assert read(tasklane, task_id)["status"] == "completed"
    assert tasklane.item(task_id).get("result_key") is not None  # kept in the bucket, not inline


def test_the_worker_helper_refuses_a_result_over_the_limit_without_sending_it(
    tasklane, receiver, bridge, s3_by_moto, monkeypatch
):
    from tasklane_client import InvalidRequest, worker

    monkeypatch.setenv("MAX_RESULT_BYTES", "1000")
    from tasklane.settings import settings

    settings.cache_clear()
    task_id, envelope = start(tasklane, receiver, timeout_seconds=3600)
    at_limit = "a" * 998  # 1,000 bytes of JSON with its quotes
    worker.upload_result(task_id, envelope["completion"], at_limit)
    with pytest.raises(InvalidRequest) as refused:
        worker.upload_result(task_id, envelope["completion"], at_limit + "a")
    assert (refused.value.status, refused.value.message) == (413, "the result is 1001 bytes; the limit is 1000")
    assert [size for _, _, size in s3_by_moto] == [1000]  # the one over was not sent
    settings.cache_clear()


def test_the_worker_helper_asks_again_when_a_put_is_refused_or_the_bucket_fails(
    tasklane, receiver, bridge, s3_by_moto, monkeypatch
):
    """A 403 (the URL expired, or the credentials that signed it did) or a 5xx: asked again with a
    fresh URL, twice at most; a 4xx that a fresh URL cannot mend is raised at once."""
    from tasklane_client import EndpointError, InvalidRequest, ServerError, worker

    task_id, envelope = start(tasklane, receiver, timeout_seconds=3600)
    slept, asked, real = [], [], worker.result_upload
    monkeypatch.setattr(worker.time, "sleep", slept.append)
    monkeypatch.setattr(worker, "result_upload", lambda *a: asked.append(1) or real(*a))
    through_moto = worker.urllib.request.urlopen

    def answers(*statuses):
        """Each PUT answered with the next status (None: moto's own answer)."""
        left = list(statuses)

        def urlopen(request, timeout=None):
            status = left.pop(0) if left and "amazonaws" in request.full_url else None
            if status is None:
                return through_moto(request, timeout=timeout)
            if status == "unreachable":
                raise urllib.error.URLError("connection refused")
            raise urllib.error.HTTPError(request.full_url, status, "refused", {}, io.BytesIO())

        monkeypatch.setattr(worker.urllib.request, "urlopen", urlopen)

    answers(403)
    worker.upload_result(task_id, envelope["completion"], {"n": 1})  # the second URL takes it
    assert (len(asked), slept, len(s3_by_moto)) == (2, [1], 1)
    for statuses, kind, message in [
        ((403, 403, 403), InvalidRequest, "the result upload was refused: HTTP 403"),
        ((503, 500, 503), ServerError, "the result upload was refused: HTTP 503"),
        ((400,), InvalidRequest, "the result upload was refused: HTTP 400"),
        (
            ("unreachable",) * 3,
            EndpointError,
            "the result upload could not be sent: <urlopen error connection refused>",
        ),
    ]:
        asked.clear()
        answers(*statuses)
        with pytest.raises(kind) as raised:
            worker.upload_result(task_id, envelope["completion"], {"n": 1})
        assert raised.value.message == message
        assert len(asked) == len(statuses)


def test_an_envelope_from_before_the_route_still_finds_it(tasklane, receiver, bridge, s3_by_moto):
    """An attempt accepted before the route existed (its completion has no result_upload_url) runs up
    to 7 days: the envelope parses, and the helper finds the route beside complete_url."""
    from tasklane_client import worker

    from tasklane.model.envelope import Envelope

    task_id, envelope = start(tasklane, receiver, timeout_seconds=3600)
    older = {k: v for k, v in envelope["completion"].items() if k != "result_upload_url"}
    parsed = Envelope.from_json(json.dumps({**envelope, "completion": older}))
    assert parsed.completion is not None
    assert parsed.completion.result_upload_url is None
    assert "result_upload_url" not in parsed.to_dict()["completion"]
    worker.upload_result(task_id, older, {"n": 2})
    assert worker.complete(task_id, older, worker.RESULT_UPLOADED)["status"] == "completed"
    assert tasklane.call(api_event("get_result", task_id=task_id)).body["result"] == {"n": 2}
