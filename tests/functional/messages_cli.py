"""Every message the `tasklane` command (and the Python client under it) prints on a failure or as a
confirmation: one row each (where it goes, the exit code, the exact text, what to do), and how to make
the command print it, in process against the in-process stack."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tasklane_client import Client
from tasklane_client.cli import main
from tasklane_client.discovery import Target
from tasklane_client.errors import EndpointError, TasklaneError
from tasklane_client.transport import Answer

from tests.functional.test_client import ENDPOINT, InProcess

UNKNOWN = "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
CLOSED = "http://127.0.0.1:9/v1"  # nothing listens there: a refused connection, on this machine only
Printed = tuple[tuple[str, int | None, str], dict[str, Any]]


@dataclass(frozen=True)
class Line:
    stream: str  # stderr, stdout, or raised (what the Python client raises, as str(exc))
    exit: int | None
    text: str
    todo: str
    produce: Callable[[Any], Printed]


def tasklane(w: Any, *argv: str, transport: Any = None, stdin: str | None = None) -> tuple[int, str, str]:
    """`tasklane ARGV` in process: its exit code, stdout and stderr."""
    target = Target(ENDPOINT, None, "test")
    target.transport = transport or InProcess(w.tasklane)  # type: ignore[attr-defined]
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:  # not a terminal, as in a script
        w.monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv), target_for=lambda **_: target)
        except SystemExit as exc:  # argparse's refusals
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def last(stream: str, ran: tuple[int, str, str], **values: Any) -> Printed:
    code, out, err = ran
    lines = (out if stream == "stdout" else err).rstrip("\n").splitlines()
    return (stream, code, lines[-1] if lines else ""), values


def raised(call: Callable[[], Any], **values: Any) -> Printed:
    try:
        call()
    except TasklaneError as exc:
        return ("raised", None, str(exc)), values
    raise AssertionError("nothing raised")


def gateway(status: int, said: str) -> Callable[..., Answer]:
    """A transport answering as API Gateway does by default ({"message": ...} only)."""
    body = json.dumps({"message": said}).encode() if said else b""
    return lambda *_: Answer(status, {}, body)


def submitted(w: Any, task_type: str = "echo", payload: str = "{}") -> str:
    return str(client(w).submit(task_type, json.loads(payload))["task_id"])


def dead_lettered(w: Any) -> str:
    from tests.functional.test_cli_answers import dead_lettered as made

    return str(made(w.tasklane, 1)[0])


def client(w: Any) -> Client:
    return Client(ENDPOINT, None, transport=InProcess(w.tasklane))


# --- producers -------------------------------------------------------------------------------------


def _api_error(w: Any) -> Printed:
    """The message on its first line; the error's details (not fields) follow as JSON."""
    task_id = submitted(w)
    tasklane(w, "cancel", task_id)
    code, _, err = tasklane(w, "cancel", task_id)
    assert json.loads(err.split("\n", 1)[1]) == {"task_id": task_id, "status": "cancelled"}
    return ("stderr", code, err.splitlines()[0]), {"task_id": task_id}


def _fields_inline(w: Any) -> Printed:
    return last("stderr", tasklane(w, "submit", "compute", "--payload", '{"n": "x"}'))


def _not_found(verb: str) -> Callable[[Any], Printed]:
    def produce(w: Any) -> Printed:
        argv = {
            "task": ("get", UNKNOWN),
            "schedule": ("schedules", "get", "nope"),
            "workflow": ("workflows", "get", UNKNOWN),
        }
        return last("stderr", tasklane(w, *argv[verb]), task_id=UNKNOWN, workflow_id=UNKNOWN)

    return produce


def _forbidden(w: Any) -> Printed:
    return last("stderr", tasklane(w, "list", transport=gateway(403, "Forbidden")))


def _forbidden_first_line(w: Any) -> Printed:
    _, _, err = tasklane(w, "list", transport=gateway(403, "Forbidden"))
    return ("stderr", 1, err.splitlines()[0]), {}


def _gateway_default(status: int, said: str) -> Callable[[Any], Printed]:
    def produce(w: Any) -> Printed:
        c = Client(ENDPOINT, None, transport=gateway(status, said), max_retries=0)
        return raised(lambda: c.get(UNKNOWN), status=status)

    return produce


def _unexpected(w: Any) -> Printed:
    from tasklane_client import cli

    def broken(c: Any) -> int:
        raise OverflowError("port must be 0-65535.")

    w.monkeypatch.delenv("TASKLANE_DEBUG", raising=False)
    w.monkeypatch.setitem(cli.COMMANDS, "list", broken)
    return last("stderr", tasklane(w, "list"))


def _usage(*argv: str, stdin: str | None = None, **values: Any) -> Callable[[Any], Printed]:
    def produce(w: Any) -> Printed:
        return last("stderr", tasklane(w, *argv, stdin=stdin), **values)

    produce.__name__ = "_" + "_".join(a.strip("-@{}\"' :") or "x" for a in argv[:3])
    return produce


def _unreadable(w: Any) -> Printed:
    return last("stderr", tasklane(w, "batch", "/nonexistent/tasks.jsonl"))


def _batch_line(w: Any) -> Printed:
    return last("stderr", tasklane(w, "batch", "-", stdin='{"task_type": "echo"}\n{nope\n'))


def _schema_not_json(w: Any) -> Printed:
    return last("stderr", tasklane(w, "types", "put", "mine", "--url", "https://x.example.com", "--schema", "{nope"))


def _schema_not_object(w: Any) -> Printed:
    return last("stderr", tasklane(w, "types", "put", "mine", "--url", "https://x.example.com", "--schema", "[]"))


def _cannot_listen(w: Any) -> Printed:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        return last("stderr", tasklane(w, "console", "--port", str(port), "--no-browser"), port=port)


def later(w: Any) -> str:
    """A task due in an hour: scheduled until then."""
    return str(client(w).submit("echo", {}, delay_seconds=3600)["task_id"])


def _wait_timeout(w: Any) -> Printed:
    task_id = later(w)
    return last("stderr", tasklane(w, "wait", task_id, "--timeout", "0"), task_id=task_id)


def _wrote(w: Any) -> Printed:
    task_id = submitted(w)
    return last("stderr", tasklane(w, "result", task_id, "-o", "-"), task_id=task_id)


def _cannot_write(w: Any) -> Printed:
    task_id = submitted(w)
    return last("stderr", tasklane(w, "result", task_id, "-o", "/nonexistent/dir/r.json"))


def _dlq(*argv: str, stdin: str | None = None) -> Callable[[Any], Printed]:
    def produce(w: Any) -> Printed:
        dead_lettered(w)
        stream = "stdout" if "--yes" in argv or "--dry-run" in argv else "stderr"
        ran = tasklane(w, "dlq", "retry", *argv, stdin=stdin)
        if stdin is not None and stream == "stderr" and argv == ("--first",):
            return ("stderr", ran[0], ran[2].splitlines()[0]), {}
        return last(stream, ran)

    produce.__name__ = "_dlq_" + "_".join(a.strip("-") for a in argv)
    return produce


def _dlq_question(w: Any) -> Printed:
    dead_lettered(w)
    _, _, err = tasklane(w, "dlq", "retry", stdin="")
    return ("stderr", 2, err.splitlines()[0]), {}


def _bulk(stream: str, *argv: str) -> Callable[[Any], Printed]:
    def produce(w: Any) -> Printed:
        from tests.functional.test_client_bulk import WithBulk

        submitted(w)
        return last(stream, tasklane(w, "bulk", *argv, transport=WithBulk(w.tasklane), stdin=""))

    produce.__name__ = "_bulk_" + "_".join(a.strip("-") for a in argv)
    return produce


def _bulk_done(w: Any) -> Printed:
    from tests.functional.test_client_bulk import WithBulk

    submitted(w)
    ran = tasklane(w, "bulk", "cancel", "--yes", transport=WithBulk(w.tasklane))
    return last("stdout", ran, bulk_id=ran[1].rsplit("bulk id ", 1)[-1].strip())


def _deleted(kind: str) -> Callable[[Any], Printed]:
    def produce(w: Any) -> Printed:
        if kind == "schedules":
            assert tasklane(w, "schedules", "create", "nightly", "--rate", "1 day", "echo")[0] == 0
            return last("stdout", tasklane(w, "schedules", "delete", "nightly"), name="nightly")
        w.resolver.names["x.example.com"] = ["93.184.216.34"]
        assert tasklane(w, "types", "put", "mine", "--url", "https://x.example.com/run")[0] == 0
        return last("stdout", tasklane(w, "types", "delete", "mine"), name="mine")

    produce.__name__ = f"_deleted_{kind}"
    return produce


def _saved(w: Any) -> Printed:
    w.resolver.names["x.example.com"] = ["93.184.216.34"]
    return last("stdout", tasklane(w, "types", "put", "mine", "--url", "https://x.example.com/run"), name="mine")


def _no_endpoint(w: Any) -> Printed:
    from tasklane_client import discovery

    for name in ("TASKLANE_ENDPOINT", "TASKLANE_STACK_NAME", "TASKLANE_API_KEY"):
        w.monkeypatch.delenv(name, raising=False)
    w.monkeypatch.setattr(discovery, "_local_running", lambda: False)
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["list"])
    return ("stderr", code, err.getvalue().rstrip("\n")), {}


def _no_stack(w: Any) -> Printed:
    """CloudFormation's answer for a stack that is not there (stubbed: the emulator's needs a package we lack)."""
    import boto3
    from botocore.stub import Stubber

    made = boto3.client("cloudformation", region_name="us-east-1")
    stub = Stubber(made)
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id nope does not exist", 400)
    stub.activate()
    w.monkeypatch.setattr(boto3, "client", lambda *_, **__: made)
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["--stack-name", "nope", "list"])
    return ("stderr", code, err.getvalue().rstrip("\n")), {}


def _refused(w: Any) -> Printed:
    w.resolver.names["127.0.0.1"] = ["127.0.0.1"]  # the stubbed resolver answers for this machine only
    c = Client(CLOSED, None, max_retries=0)
    return raised(lambda: c.get(UNKNOWN), url=f"{CLOSED}/tasks/{UNKNOWN}")


def _no_credentials(w: Any) -> Printed:
    from tasklane_client import IamAuth

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        w.monkeypatch.delenv(name, raising=False)
    w.monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    w.monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    w.monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    c = Client(CLOSED, IamAuth(region="us-east-1"), max_retries=0)
    return raised(lambda: c.get(UNKNOWN))


def _task_failed(w: Any) -> Printed:
    task_id = str(client(w).submit("fail", {"message": "boom"}, max_attempts=1)["task_id"])
    return raised(lambda: client(w).wait(task_id, timeout=10), task_id=task_id)


def _task_cancelled(w: Any) -> Printed:
    task_id = submitted(w)
    tasklane(w, "cancel", task_id)
    return raised(lambda: client(w).wait(task_id, timeout=10), task_id=task_id)


def _client_wait_timeout(w: Any) -> Printed:
    task_id = later(w)
    return raised(lambda: client(w).wait(task_id, timeout=0), task_id=task_id)


BUCKET_URL = "https://values.s3.amazonaws.com/payloads/t?X-Amz-Signature=abc"


def _large_value(answer: Answer | Exception) -> Callable[[Any], Printed]:
    """A task whose payload sits behind a presigned URL, and what reading the URL answers."""

    def produce(w: Any) -> Printed:
        task = {"task_id": UNKNOWN, "status": "pending", "payload": None, "payload_url": BUCKET_URL}

        def transport(method: str, url: str, *_: Any) -> Answer:
            if url != BUCKET_URL:
                return Answer(200, {}, json.dumps(task).encode())
            if isinstance(answer, Exception):
                raise answer
            return answer

        c = Client(ENDPOINT, None, transport=transport, max_retries=0)
        return raised(lambda: c.get(UNKNOWN, fetch_values=True), task_id=UNKNOWN)

    return produce


def _no_location(w: Any) -> Printed:
    c = Client(ENDPOINT, None, transport=lambda *_: Answer(303, {}, b"{}"), max_retries=0)
    return raised(lambda: c.result(UNKNOWN))


def _bulk_still_running(w: Any) -> Printed:
    running = {"bulk_id": UNKNOWN, "status": "running", "matched": 3, "changed": 1, "skipped": 0}
    c = Client(ENDPOINT, None, transport=lambda *_: Answer(200, {}, json.dumps(running).encode()))
    return raised(lambda: c.wait_bulk(UNKNOWN, timeout=0), bulk_id=UNKNOWN)


# --- the catalogue ---------------------------------------------------------------------------------

CHECK_KEY = "pass --api-key KEY or set TASKLANE_API_KEY (the stack's API key: aws apigateway get-api-key --include-value --api-key <ApiKeyId output>)"
CLI: list[Line] = [
    Line(
        "stderr",
        1,
        "tasklane: 409 invalid_transition: cannot cancel task {task_id}: it is cancelled",
        "an API error: its status, code and message (docs/messages.md)",
        _api_error,
    ),
    Line(
        "stderr",
        1,
        "tasklane: 422 validation_error: invalid payload for task type 'compute' (payload.n: must be a whole number)",
        "fix the fields named in brackets",
        _fields_inline,
    ),
    Line(
        "stderr",
        1,
        "tasklane: task {task_id} not found (for this caller: check the task id and the credentials or API key you use)",
        "check the id, and that you use the credentials that submitted it",
        _not_found("task"),
    ),
    Line(
        "stderr",
        1,
        "tasklane: schedule 'nope' not found (for this caller: check the schedule's name (tasklane schedules list) and the credentials or API key you use)",
        "tasklane schedules list",
        _not_found("schedule"),
    ),
    Line(
        "stderr",
        1,
        "tasklane: workflow {workflow_id} not found (for this caller: check the endpoint, and the credentials or API key you use)",
        "check the id and the credentials",
        _not_found("workflow"),
    ),
    Line(
        "stderr",
        1,
        "tasklane: 403 invalid_api_key: API key missing or not valid for this stage: pass --api-key or set TASKLANE_API_KEY",
        "give the stack's API key",
        _forbidden_first_line,
    ),
    Line("stderr", 1, "tasklane: " + CHECK_KEY, "the command's hint after an API key refusal", _forbidden),
    Line(
        "stderr",
        1,
        "tasklane: unexpected error: OverflowError: port must be 0-65535. (TASKLANE_DEBUG=1 shows where)",
        "run again with TASKLANE_DEBUG=1 and report the traceback",
        _unexpected,
    ),
    Line(
        "stderr",
        2,
        "tasklane: --payload is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "give a JSON object, or @file",
        _usage("submit", "echo", "--payload", "{nope"),
    ),
    Line(
        "stderr",
        2,
        "tasklane: --payload must be a JSON object",
        "wrap the value in an object",
        _usage("submit", "echo", "--payload", "[1]"),
    ),
    Line(
        "stderr",
        2,
        "tasklane: cannot read /nonexistent/tasks.jsonl: No such file or directory",
        "check the file's path",
        _unreadable,
    ),
    Line(
        "stderr",
        2,
        "tasklane: - line 2 is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "fix that line: one JSON object per line",
        _batch_line,
    ),
    Line(
        "stderr",
        2,
        "tasklane: --schema is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "give JSON text, or @FILE",
        _schema_not_json,
    ),
    Line("stderr", 2, "tasklane: --schema must be a JSON object", "give a JSON Schema object", _schema_not_object),
    Line(
        "stderr",
        2,
        "tasklane: cannot listen on 127.0.0.1:{port}: Address already in use",
        "choose another --port (0: any free one)",
        _cannot_listen,
    ),
    Line(
        "stderr",
        2,
        "tasklane console: error: argument --port: '99999' is not a port: give a number from 0 to 65535 (0: any free one)",
        "give a port from 0 to 65535",
        _usage("console", "--port", "99999"),
    ),
    Line(
        "stderr",
        2,
        "tasklane submit: error: argument --in: 'soon' is not a duration like 90s, 15m, 2h, 3d or 1h30m",
        "write the delay as 90s, 15m, 2h, 3d or 1h30m",
        _usage("submit", "echo", "--in", "soon"),
    ),
    Line(
        "stderr",
        2,
        "tasklane submit: error: argument --at: 'tomorrow' is not ISO 8601, e.g. 2026-12-01T09:00:00Z",
        "write the moment as ISO 8601",
        _usage("submit", "echo", "--at", "tomorrow"),
    ),
    Line(
        "stderr",
        2,
        "tasklane submit: error: argument --at: '2026-12-01T09:00:00' has no zone: add Z (UTC) or an offset such as +01:00",
        "add Z or an offset",
        _usage("submit", "echo", "--at", "2026-12-01T09:00:00"),
    ),
    Line(
        "stderr",
        5,
        "tasklane: task {task_id} still scheduled after 0s",
        "wait longer (--timeout), or check the task's lane (tasklane stats)",
        _wait_timeout,
    ),
    Line(
        "stderr", 0, "tasklane: wrote 2 bytes to stdout", "a confirmation: the result's size and where it went", _wrote
    ),
    Line(
        "stderr",
        1,
        "tasklane: cannot write /nonexistent/dir/r.json: No such file or directory",
        "check the output's folder",
        _cannot_write,
    ),
    Line(
        "stderr",
        2,
        "tasklane: retry 1 dead-lettered task(s)? needs confirmation: pass --yes (stdin is not a terminal)",
        "pass --yes in scripts",
        _dlq_question,
    ),
    Line(
        "stderr", 2, "tasklane: nothing retried (pass --yes to retry without asking)", "pass --yes, or answer y", _dlq()
    ),
    Line(
        "stdout",
        0,
        "would retry 1 dead-lettered task(s)",
        "a confirmation of --dry-run: nothing changed",
        _dlq("--dry-run"),
    ),
    Line("stdout", 0, "retried 1 task(s)", "a confirmation", _dlq("--yes")),
    Line(
        "stderr",
        2,
        "tasklane: 1 tasks match; pass --yes to cancel them",
        "pass --yes in scripts (or run it on a terminal to be asked)",
        _bulk("stderr", "cancel"),
    ),
    Line(
        "stdout",
        0,
        "1 pending or scheduled tasks match; nothing changed (dry run)",
        "a confirmation of --dry-run",
        _bulk("stdout", "cancel", "--dry-run"),
    ),
    Line("stdout", 0, "no failed or cancelled tasks match; nothing to do", "nothing to do", _bulk("stdout", "retry")),
    Line(
        "stdout",
        0,
        "1 of 1 matching tasks cancelled (0 skipped: moved by something else first); bulk id {bulk_id}",
        "a confirmation: what changed",
        _bulk_done,
    ),
    Line("stdout", 0, "deleted {name}", "a confirmation", _deleted("schedules")),
    Line("stdout", 0, "deleted {name}", "a confirmation", _deleted("types")),
    Line("stdout", 0, "saved {name} (url, sync)", "a confirmation: the type's kind and mode", _saved),
    Line(
        "stderr",
        1,
        "tasklane: no tasklane endpoint: pass --endpoint URL (with --api-key in api_key mode), or --stack-name NAME to read it from the stack's outputs, or set TASKLANE_ENDPOINT; or start the local stack with `make up`",
        "say where the API is",
        _no_endpoint,
    ),
    Line(
        "stderr",
        1,
        "tasklane: cannot read the outputs of stack 'nope': Stack with id nope does not exist (check --stack-name, --region and --profile)",
        "check the stack's name, region and profile",
        _no_stack,
    ),
    Line(
        "raised",
        None,
        "cannot reach {url}: connection refused; check the endpoint (--endpoint or TASKLANE_ENDPOINT)",
        "check the endpoint and that the API is up",
        _refused,
    ),
    Line(
        "raised",
        None,
        "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure` / `aws sso login`",
        "give AWS credentials (or an API key)",
        _no_credentials,
    ),
    Line(
        "raised",
        None,
        "task {task_id} failed: IntentionalFailure: boom",
        "TaskFailed: read exc.task['error']; retry once fixed",
        _task_failed,
    ),
    Line("raised", None, "task {task_id} was cancelled", "TaskCancelled: retry it to run it", _task_cancelled),
    Line(
        "raised",
        None,
        "task {task_id} still scheduled after 0s",
        "WaitTimeout: wait again, or longer",
        _client_wait_timeout,
    ),
    Line(
        "raised",
        None,
        "the payload of task {task_id} at https://values.s3.amazonaws.com/payloads/t is not JSON (b'<html>'...)",
        "read the URL again through the API (a fresh one); report it if it persists",
        _large_value(Answer(200, {}, b"<html>")),
    ),
    Line(
        "raised",
        None,
        "403 large_value_unavailable: the payload of task {task_id} could not be read from its presigned URL (AccessDenied: Request has expired); it has expired or was refused: ask the API again for a fresh URL",
        "ask the API again: client.get(..., fetch_values=True) or client.result()",
        _large_value(
            Answer(403, {}, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
        ),
    ),
    Line(
        "raised",
        None,
        "cannot reach values.s3.amazonaws.com: connection refused (reading the payload of task {task_id} from its presigned URL)",
        "check this machine's access to S3, then ask again",
        _large_value(EndpointError("cannot reach values.s3.amazonaws.com: connection refused")),
    ),
    Line(
        "raised",
        None,
        "303 no_location: the API answered 303 without a Location",
        "a proxy dropped the Location header: call the API directly",
        _no_location,
    ),
    Line(
        "raised",
        None,
        "bulk action {bulk_id} still running after 0s",
        "it goes on on the server: follow it with client.get_bulk(bulk_id)",
        _bulk_still_running,
    ),
    Line(
        "raised",
        None,
        "{status} no_route_or_unsigned: no route for this method and path, or the request is not signed: the routes are listed by GET /openapi.json",
        "API Gateway's default answer, as the client words it: check the path and the signing",
        _gateway_default(403, "Missing Authentication Token"),
    ),
    Line(
        "raised",
        None,
        "{status} invalid_api_key: API key missing or not valid for this stage: pass --api-key or set TASKLANE_API_KEY",
        "give the stack's API key",
        _gateway_default(403, "Forbidden"),
    ),
    Line(
        "raised",
        None,
        "{status} throttled: too many requests for this API key or stage: retry after a pause",
        "retry later (the client already retried with backoff)",
        _gateway_default(429, "Too Many Requests"),
    ),
    Line(
        "raised",
        None,
        "{status} quota_exceeded: this API key has used its quota: it renews at the start of its period",
        "wait for the next period",
        _gateway_default(429, "Limit Exceeded"),
    ),
    Line(
        "raised",
        None,
        "{status} timeout: the API did not answer within 29 s: retry",
        "retry (with an idempotency key for a submission)",
        _gateway_default(504, "Endpoint request timed out"),
    ),
    Line(
        "raised",
        None,
        "{status} request_too_large: the request is larger than API Gateway accepts (10 MB)",
        "send less per request",
        _gateway_default(413, "Request Too Long"),
    ),
    Line(
        "raised",
        None,
        "{status} http_{status}: HTTP {status} with no message",
        "an answer with no body (a proxy's): check the endpoint",
        _gateway_default(502, ""),
    ),
]
