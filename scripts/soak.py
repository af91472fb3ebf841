"""`make soak`: 2,000 tasks of mixed types and priorities on the local stack while faults are injected.

Faults from outside: processor crashes, duplicate and malformed lane messages, early duplicates of
delayed tasks' messages, concurrent reconcilers, cancels and explicit retries. Faults from inside the
deployed functions (tasklane/data/faults.py, switched on here through TASKLANE_FAULTS, published as a
version that the functions' alias `live` then runs): the processors'
outcome writes (completed, failed, retrying) throttled past the SDK's retries or applied with their
answer lost, and the submit function's cancel and retry writes applied with their answer lost. The
stack is deployed with a small MaxResultBytes, and `blob` tasks return results between 64 KiB and
that limit (kept in the values bucket) or above it (ResultTooLarge).

Beside them: `scheduled` tasks due past the stack's queue-delay horizon (stored scheduled, queued by the
promoter; a duplicate of the lane message is sent at once, and none may start before its run_at), a
recurring schedule firing every minute (scripts/soak_schedule.py: each due firing's task exists once
and completes), webhooks to a receiver on 127.0.0.1 that answers some calls 5xx and tarpits some
(scripts/soak_receiver.py: every finished task's webhook delivered and signed, no call held past the
webhook deadline), and `send_email` at its 5/s (scripts/soak_timing.py: no sliding second over it,
from the tasks' started_at); where the stack offers them, workflows (scripts/soak_workflows.py: a chain
and a chord per 40 tasks, each node started after its inputs finished) and a url-target type whose
target is a receiver on 127.0.0.1 (scripts/soak_target.py). SOAK_TASKS=600 runs a smaller soak; the
default is 2,000.

At the end it prints how many were submitted, completed, failed, cancelled, lost, run to completion
more than once, started before their delay was over, and ended otherwise than planned, with the faults
injected, and exits non-zero unless the last four are 0 and every cancel and retry was accepted.
Whatever it changed on a stack it did not start (function environments, lane visibility, the
MaxResultBytes parameter) is put back. Bounded in time.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions"), str(ROOT / "client")]

import requests  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from tasklane_client import verify_signature  # noqa: E402

from scripts import localstack, soak_workflows  # noqa: E402
from scripts.soak_receiver import Receiver, waiting  # noqa: E402
from scripts.soak_report import report_extras, report_products  # noqa: E402
from scripts.soak_schedule import RecurringSchedule  # noqa: E402
from scripts.soak_target import Target  # noqa: E402
from scripts.soak_timing import Lateness, RateFigures, started_early  # noqa: E402
from scripts.soak_workflows import Submitted  # noqa: E402
from tasklane import limits  # noqa: E402

TASKS = int(os.environ.get("SOAK_TASKS", "2000"))  # a smaller soak for a quick look: SOAK_TASKS=600
DEADLINE_SECONDS = 510
SOAK_VISIBILITY = "30"  # seconds: five crashes reach the DLQ within minutes, not the stack's 6 x 60 s
FINISHED = {"completed", "failed", "cancelled"}
KIB = 1024
INLINE_LIMIT = 64 * KIB  # results above it are kept in the values bucket
MAX_RESULT_BYTES = 1024 * KIB  # the soak's stack parameter: results above it fail with ResultTooLarge
DEFAULT_MAX_RESULT_BYTES = "10485760"  # the template's default, for a stack that never set it
API_THREADS = 4
API_TIMEOUT = 300  # seconds

# Faults inside the deployed functions (format: tasklane/data/faults.py). The processors' outcome writes
# are throttled (6 refusals: past the SDK's 1 + 5 sends, so execution._persist must carry them) or
# applied with their answer lost; the submit function's cancel (-> cancelled) and retry (-> pending)
# writes are applied with their answer lost. A throttle holds its lane for the SDK's backoff (~15 s):
# rarer on the low lane, whose two concurrent runs would otherwise stretch the soak.
OUTCOMES = ("completed", "failed", "pending")


def processor_faults(throttle: float, lost: float) -> str:
    return ";".join(f"UpdateItem:{s}=throttle:{throttle},lost:{lost}" for s in OUTCOMES)


SUBMIT_FAULTS = "UpdateItem:cancelled=lost:0.3;UpdateItem:pending=lost:0.5"


def faults_for(logical_id: str) -> str | None:
    """The TASKLANE_FAULTS of a function of the stack, by its logical id."""
    if "Processor" in logical_id:
        return processor_faults(0.005, 0.03) if "Low" in logical_id else processor_faults(0.01, 0.03)
    if "Submit" in logical_id:
        return SUBMIT_FAULTS
    return None


@dataclass(frozen=True)
class Kind:
    """One kind of task in the mix: what is submitted, what the soak does to it, how it must end."""

    name: str
    weight: int
    spec: dict[str, Any]
    expected: str
    action: str = ""  # cancel | cancel+retry | retry (after it fails) | early duplicate
    vary: Callable[[random.Random], dict[str, Any]] | None = None  # per-task fields (run_in: run_at from now)
    error: str | None = None  # the error type a failed task must carry
    callback: bool = False  # its callback_url is the soak's receiver
    submitted: str | None = None  # the status its submission must answer, where it says


URL_TARGET = "url target"  # its task type is registered by the soak, where the stack offers PUT /task-types
MIX = [
    Kind("echo", 30, {"task_type": "echo", "payload": {"soak": True}}, "completed"),
    Kind("compute", 17, {"task_type": "compute", "payload": {"n": 20_000}}, "completed"),
    Kind("sleep", 9, {"task_type": "sleep", "payload": {"seconds": 0.2}}, "completed"),
    Kind(
        "fail twice",
        7,
        {"task_type": "fail", "payload": {"succeed_on_attempt": 2}, "max_attempts": 3},
        "completed",
    ),
    Kind(
        "fail",
        7,
        {"task_type": "fail", "payload": {"message": "soak failure"}, "max_attempts": 2},
        "failed",
    ),
    Kind(
        "time out",
        4,
        {"task_type": "sleep", "payload": {"seconds": 3}, "timeout_seconds": 1, "max_attempts": 1},
        "failed",
    ),
    Kind(
        "crash",
        2,
        {"task_type": "fail", "payload": {"mode": "crash"}, "timeout_seconds": 1, "max_attempts": 10},
        "failed",
    ),
    Kind("cancel", 9, {"task_type": "echo", "payload": {"cancel": True}, "delay_seconds": 600}, "cancelled", "cancel"),
    # A retry of a cancelled task keeps its run_at: due 240 s after submission, it is cancelled and
    # retried long before (the cancels go out within the first two minutes), and runs within the soak.
    Kind(
        "cancel+retry",
        3,
        {"task_type": "echo", "payload": {"cancel": "retry"}, "delay_seconds": 240},
        "completed",
        "cancel+retry",
    ),
    Kind(
        "fail+retry",
        4,
        {"task_type": "fail", "payload": {"succeed_on_attempt": 2}, "max_attempts": 1},
        "completed",
        "retry",
    ),
    Kind(
        "delayed",
        5,
        {"task_type": "echo", "payload": {"delayed": True}},
        "completed",
        "early duplicate",
        vary=lambda rng: {"delay_seconds": rng.randint(15, 45)},
    ),
    Kind(
        "large result",
        2,
        {"task_type": "blob"},
        "completed",
        vary=lambda rng: {"payload": {"size": rng.randint(INLINE_LIMIT + KIB, MAX_RESULT_BYTES - KIB)}},
    ),
    Kind(
        "oversized result",
        1,
        {"task_type": "blob"},
        "failed",
        vary=lambda rng: {"payload": {"size": rng.randint(MAX_RESULT_BYTES + KIB, 3 * MAX_RESULT_BYTES)}},
        error="ResultTooLarge",
    ),
    # Due past the local stack's QueueDelayHorizonSeconds (30 s): stored scheduled, queued by the
    # promoter, and a duplicate of its lane message sent at once must not start it early.
    Kind(
        "scheduled",
        5,
        {"task_type": "echo", "payload": {"scheduled": True}},
        "completed",
        "early duplicate",
        vary=lambda rng: {"run_in": rng.randint(45, 240)},
        submitted="scheduled",
    ),
    Kind(
        "rate-limited",
        5,
        {"task_type": "send_email", "payload": {"to": "soak@example.com", "subject": "soak"}},
        "completed",
    ),
    Kind("webhook", 5, {"task_type": "echo", "payload": {"webhook": True}}, "completed", callback=True),
    Kind(
        "webhook fail",
        2,
        {"task_type": "fail", "payload": {"message": "soak webhook"}, "max_attempts": 1},
        "failed",
        callback=True,
    ),
    Kind(
        "webhook cancel",
        1,
        {"task_type": "echo", "payload": {"webhook": "cancel"}, "delay_seconds": 600},
        "cancelled",
        "cancel",
        callback=True,
        submitted="scheduled",
    ),
    Kind(URL_TARGET, 3, {"payload": {"soak": "target"}}, "completed"),
]
RATE_LIMITED = {"rate-limited": 5}  # kind -> its type's rate a second (send_email: 5/s)


@dataclass
class Planned:
    kind: Kind
    spec: dict[str, Any]
    task_id: str = ""
    answers: list[int] = field(default_factory=list)  # the API's status codes for this task's cancel/retry
    retried: bool = False
    submitted: str = ""  # the status its submission answered


def plan(rng: random.Random, callback_url: str, target: str | None) -> list[Planned]:
    """The tasks in the order they are submitted: failures awaiting an explicit retry first, so that
    their second run is not queued behind the whole backlog of the low lane; the rest in random order.
    (Crashes stay spread out: two in one batch keep each other from running, and off to the DLQ.)
    `target` names the url-target type of the soak's caller; None leaves that kind out (no such routes)."""
    mix = [
        replace(k, spec={**k.spec, "task_type": target}) if k.name == URL_TARGET else k
        for k in MIX
        if k.name != URL_TARGET or target
    ]
    chosen = rng.choices(mix, weights=[k.weight for k in mix], k=TASKS)
    planned = [
        Planned(
            kind,
            {
                **kind.spec,
                **(kind.vary(rng) if kind.vary else {}),
                **({"callback_url": callback_url} if kind.callback else {}),
                "priority": rng.choice(LANES),
            },
        )
        for kind in chosen
    ]
    return sorted(planned, key=lambda p: SLOW.index(p.kind.name) if p.kind.name in SLOW else len(SLOW))


# Submitted first, in this order: failures awaiting an explicit retry (see plan), then the rate-limited
# type's tasks together, so that every lane claims them at once and the rate is what holds them back.
SLOW = ["fail+retry", "rate-limited"]
LANES = ["high", "normal", "low"]


def items(session: Any, table: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    dynamodb = session.client("dynamodb")
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        keys = [{"task_id": {"S": t}} for t in ids[start : start + 100]]
        request: dict[str, Any] = {
            table: {
                "Keys": keys,
                "ProjectionExpression": "task_id, #s, attempts, #e, result_key",
                "ExpressionAttributeNames": {"#s": "status", "#e": "error"},
            }
        }
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            for item in answer["Responses"][table]:
                found[item["task_id"]["S"]] = item
            request = answer.get("UnprocessedKeys") or {}
    return found


def _status(item: dict[str, Any] | None) -> str:
    return item["status"]["S"] if item else "missing"


def _error_type(item: dict[str, Any]) -> str | None:
    return item.get("error", {}).get("M", {}).get("type", {}).get("S")


# What execution.py logs when a run reached the end of the task function.
RUN_ENDS = ("task completed", "result not recorded: another delivery took this task over")


def completions(log_file: Path, offset: int, ids: set[str]) -> tuple[Counter[str], list[str]]:
    """Runs that reached the end of the task function, per task, read from the processors' own logs in
    the emulator's log since `offset`; and the tasks of such runs whose outcome was neither recorded
    nor lost to another delivery (given up: the task was then run again).

    A run is one processor invocation (function_request_id) of a task. It reached the end when it
    logged "task completed" or "result not recorded", or when a fault was injected into its write of
    `completed`, which only a run whose function returned makes."""
    ends: dict[str, set[str]] = defaultdict(set)
    recorded: set[tuple[str, str]] = set()
    with log_file.open("rb") as log:
        log.seek(offset)
        for raw in log:
            if not any(mark in raw for mark in (b"task completed", b"result not recorded", b"fault injected")):
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict) or record.get("task_id") not in ids:
                continue
            task, run = record["task_id"], str(record.get("function_request_id"))
            if record.get("message") in RUN_ENDS:
                ends[task].add(run)
                recorded.add((task, run))
            elif record.get("message") == "fault injected" and record.get("transition") == "completed":
                ends[task].add(run)
    given_up = sorted({task for task, runs in ends.items() for run in runs if (task, run) not in recorded})
    return Counter({task: len(runs) for task, runs in ends.items()}), given_up


def function_logs(session: Any, functions: dict[str, str], since_ms: int, phrase: str) -> list[dict[str, Any]]:
    """The structured lines whose message is `phrase` that the stack's functions wrote since `since_ms`
    (CloudWatch Logs: the emulator's own log has only the queue-triggered functions' output)."""
    logs = session.client("logs")
    found: list[dict[str, Any]] = []
    for name in functions.values():
        request: dict[str, Any] = {
            "logGroupName": f"/aws/lambda/{name}",
            "startTime": since_ms,
            "filterPattern": f'"{phrase}"',
        }
        while True:
            try:
                page = logs.filter_log_events(**request)
            except ClientError:  # no log group: the function never ran
                break
            for event in page.get("events", []):
                try:
                    record = json.loads(event["message"])
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("message") == phrase:
                    found.append(record)
            if not page.get("nextToken") or page["nextToken"] == request.get("nextToken"):
                break
            request["nextToken"] = page["nextToken"]
    return found


def inject_faults(session: Any, outputs: dict[str, str], rng: random.Random, bodies: list[str]) -> Counter[str]:
    """Duplicates and garbage on the lanes, and the reconciler invoked twice at once."""
    sqs, lam = session.client("sqs"), session.client("lambda")
    injected: Counter[str] = Counter()
    for body in bodies:
        sqs.send_message(QueueUrl=outputs[f"{rng.choice(['High', 'Normal', 'Low'])}QueueUrl"], MessageBody=body)
        injected["duplicate messages"] += 1
    for garbage in ("not json", "{}", json.dumps({"task_id": "nope", "owner": "x", "attempt": 1})):
        sqs.send_message(QueueUrl=outputs["NormalQueueUrl"], MessageBody=garbage)
        injected["malformed messages"] += 1
    reconciler = next(name for logical, name in stack_functions(session).items() if "Reconciler" in logical)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: lam.invoke(FunctionName=reconciler, Payload=b"{}"), range(2)))
    injected["concurrent reconciler runs"] += 2
    return injected


def stack_functions(session: Any) -> dict[str, str]:
    """The stack's Lambda functions: logical id -> function name."""
    cfn = session.client("cloudformation")
    functions: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=localstack.STACK):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::Lambda::Function":
                functions[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    return functions


def set_environment(session: Any, name: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
    """Change a function's environment variables, wait until the update has applied, and point its
    alias at a version published from it: event sources and API routes invoke the alias, never $LATEST."""
    lam = session.client("lambda")
    current = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": change(dict(current))})
    deadline = time.monotonic() + 60
    while lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus") == "InProgress":
        if time.monotonic() > deadline:
            raise RuntimeError(f"the configuration of {name} is still being updated after 60 s")
        time.sleep(0.5)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.update_alias(FunctionName=name, Name=ALIAS, FunctionVersion=version)


ALIAS = "live"  # template.yaml: AutoPublishAlias


def switch_faults(session: Any, on: bool) -> dict[str, str]:
    """Set (or remove) TASKLANE_FAULTS on the functions that get faults; those functions by logical id."""
    faulted: dict[str, str] = {}
    for logical, name in stack_functions(session).items():
        spec = faults_for(logical)
        if spec is None:
            continue
        faulted[logical] = name
        if on:
            set_environment(session, name, lambda env, spec=spec: {**env, "TASKLANE_FAULTS": spec})
        else:
            set_environment(session, name, lambda env: {k: v for k, v in env.items() if k != "TASKLANE_FAULTS"})
    return faulted


def stack_parameter(session: Any, name: str) -> str | None:
    try:
        stack = session.client("cloudformation").describe_stacks(StackName=localstack.STACK)["Stacks"][0]
    except ClientError:  # no stack yet
        return None
    return next((p["ParameterValue"] for p in stack.get("Parameters", []) if p["ParameterKey"] == name), None)


def set_stack_parameter(session: Any, name: str, value: str) -> None:
    """Update one parameter of the deployed stack, its template and other parameters as they are
    (no build, no new code: quicker than a deploy, and it leaves the code that is deployed alone)."""
    cfn = session.client("cloudformation")
    stack = cfn.describe_stacks(StackName=localstack.STACK)["Stacks"][0]
    parameters = [
        {"ParameterKey": key, "ParameterValue": value}
        if key == name
        else {"ParameterKey": key, "UsePreviousValue": True}
        for key in (p["ParameterKey"] for p in stack.get("Parameters", []))
    ]
    cfn.update_stack(
        StackName=localstack.STACK,
        UsePreviousTemplate=True,
        Parameters=parameters,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cfn.get_waiter("stack_update_complete").wait(
        StackName=localstack.STACK, WaiterConfig={"Delay": 2, "MaxAttempts": 150}
    )
    if stack_parameter(session, name) != value:
        raise RuntimeError(f"the stack's {name} is still {stack_parameter(session, name)}")


class Api:
    """The soak's caller (one session per thread), which waits out API Gateway's throttling (429), and
    waits up to API_TIMEOUT for an answer: on a host shared with other stacks, a function's cold start
    behind a queue of others has taken more than a minute."""

    def __init__(self, base: str, key: str | None) -> None:
        self.base, self.key = base, key
        self._local = threading.local()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        headers = {**({"x-api-key": self.key} if self.key else {}), **kwargs.pop("headers", {})}
        for pause in (0.2, 0.5, 1, 2, 4, 8):
            answer = self._local.session.request(
                method, self.base + path, headers=headers, timeout=API_TIMEOUT, **kwargs
            )
            if answer.status_code != 429:
                return answer
            time.sleep(pause)
        return answer


def in_parallel(work: Callable[[Planned], None], planned: list[Planned]) -> None:
    with ThreadPoolExecutor(API_THREADS) as pool:
        list(pool.map(work, planned))


def submit(api: Api, planned: list[Planned]) -> None:
    """Submit in batches of 100; a `run_in` becomes a run_at that many seconds after the batch is sent."""
    for start in range(0, len(planned), 100):
        chunk = planned[start : start + 100]
        for p in chunk:
            if "run_in" in p.spec:
                run_at = datetime.now(UTC) + timedelta(seconds=p.spec.pop("run_in"))
                p.spec["run_at"] = run_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        answer = api.request("POST", "/tasks/batch", json={"tasks": [p.spec for p in chunk]})
        answer.raise_for_status()
        for result, p in zip(answer.json()["results"], chunk, strict=True):
            p.task_id, p.submitted = result["task"]["task_id"], result["task"]["status"]


def early_duplicates(session: Any, outputs: dict[str, str], owner: str, delayed: list[Planned]) -> int:
    """Send each delayed task's lane message again at once, without its delay."""
    sqs = session.client("sqs")
    for p in delayed:
        body = {"task_id": p.task_id, "owner": owner, "attempt": 1, "timeout_seconds": 10}
        queue = outputs[f"{p.spec['priority'].capitalize()}QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body, separators=(",", ":")))
    return len(delayed)


def cancel(api: Api, p: Planned) -> None:
    """DELETE the task; for cancel+retry, POST its retry next."""
    p.answers.append(api.request("DELETE", f"/tasks/{p.task_id}").status_code)
    if p.kind.action == "cancel+retry":
        retry(api, p)


def retry(api: Api, p: Planned) -> None:
    p.answers.append(api.request("POST", f"/tasks/{p.task_id}/retry").status_code)
    p.retried = True


def views(api: Api, planned: list[Planned]) -> dict[str, dict[str, Any]]:
    """The tasks as the API shows them (GET /tasks/{id}), by id."""
    found: dict[str, dict[str, Any]] = {}

    def read(p: Planned) -> None:
        found[p.task_id] = api.request("GET", f"/tasks/{p.task_id}").json()

    in_parallel(read, planned)
    return found


def unplanned(p: Planned, item: dict[str, Any] | None) -> str | None:  # noqa: PLR0911 - a check a line
    """How a task ended otherwise than planned, or None."""
    status = _status(item)
    kind = p.kind
    if status != kind.expected:
        return f"{kind.name}: {kind.expected}->{status}"
    assert item is not None
    if kind.error and _error_type(item) != kind.error:
        return f"{kind.name}: failed with {_error_type(item)}, not {kind.error}"
    if kind.name == "large result" and "result_key" not in item:
        return f"{kind.name}: result kept inline, not in the values bucket"
    if kind.action == "retry" and int(item["attempts"]["N"]) != 2:
        return f"{kind.name}: completed on attempt {item['attempts']['N']}, not 2 (after the retry)"
    if kind.submitted and p.submitted != kind.submitted:
        return f"{kind.name}: submitted {p.submitted}, not {kind.submitted}"
    if kind.action in ANSWERS and p.answers != ANSWERS[kind.action]:
        return f"{kind.name}: the API answered {p.answers}, not {ANSWERS[kind.action]}"
    return None


ANSWERS = {"cancel": [200], "cancel+retry": [200, 202], "retry": [202]}  # what the API must answer


def restore(session: Any, out: Any, visibility: dict[str, str], max_result_bytes: str | None) -> list[str]:
    """Put back what the soak changed on a stack it did not start; what could not be, as text."""
    problems: list[str] = []
    try:
        switch_faults(session, on=False)
    except Exception as exc:  # reported, and the soak fails
        problems.append(f"TASKLANE_FAULTS not removed: {exc}")
    sqs = session.client("sqs")
    for lane, seconds in visibility.items():
        sqs.set_queue_attributes(QueueUrl=out.raw[f"{lane}QueueUrl"], Attributes={"VisibilityTimeout": seconds})
    if max_result_bytes != str(MAX_RESULT_BYTES):
        value = max_result_bytes or DEFAULT_MAX_RESULT_BYTES
        try:
            set_stack_parameter(session, "MaxResultBytes", value)
        except Exception as exc:  # reported, and the soak fails
            problems.append(f"MaxResultBytes not put back to {value} ({exc}); run `make up` to redeploy")
    return problems


SCHEDULE_SECONDS = 200  # the recurring schedule lives at least this long: three firings surely due


@dataclass
class Extras:
    """What the soak runs beside its planned tasks: the webhook receiver, the recurring schedule, and
    the workflows where the stack offers them."""

    api: Api
    receiver: Receiver
    schedule: RecurringSchedule
    owner: str
    fired: list[str] = field(default_factory=list)  # the schedule's tasks, once it is deleted
    workflows: list[Submitted] = field(default_factory=list)

    def pending(self, planned: list[Planned], current: dict[str, dict[str, Any]], seconds: float) -> list[str]:
        """What the soak still waits for beside unfinished tasks: webhooks not delivered, a schedule
        not yet deleted (deleted here once the rest is done and its firings are due), its tasks."""
        callbacks = [(p.task_id, _status(current.get(p.task_id))) for p in planned if p.kind.callback]
        undelivered = waiting(self.receiver, [(t, s) for t, s in callbacks if s in FINISHED])
        rest = [p for p in planned if _status(current.get(p.task_id)) not in FINISHED]
        if self.schedule.ended_at is None and (
            (not rest and self.schedule.age() >= SCHEDULE_SECONDS) or seconds > DEADLINE_SECONDS - 90
        ):
            self.schedule.end(self.owner)
            self.fired = self.schedule.task_ids()
        schedule = ["schedule"] if self.schedule.ended_at is None else []
        unfinished_firings = [t for t in self.fired if _status(current.get(t)) not in FINISHED]
        running = [f"workflow {w}" for w in soak_workflows.unfinished(self.api, self.workflows)]
        return [f"webhook {t}" for t in undelivered] + schedule + [f"firing {t}" for t in unfinished_firings] + running


def await_all(
    api: Api, read: Callable[[list[str]], dict[str, dict[str, Any]]], planned: list[Planned], extras: Extras, t0: float
) -> None:
    """Retry what failed its first run, and wait until everything is finished (or the deadline)."""
    by_id = {p.task_id: p for p in planned}
    to_retry = [p for p in planned if p.kind.action == "retry"]
    while time.monotonic() - t0 < DEADLINE_SECONDS:
        current = read(list(by_id) + extras.fired)
        failed_first = [p for p in to_retry if not p.retried and _status(current.get(p.task_id)) == "failed"]
        in_parallel(lambda p: retry(api, p), failed_first)
        open_tasks = [
            t
            for t, p in by_id.items()
            if _status(current.get(t)) not in FINISHED or (p.kind.action == "retry" and not p.retried)
        ]
        others = extras.pending(planned, current, time.monotonic() - t0)
        tail = f"  {dict(Counter(by_id[t].kind.name for t in open_tasks))}" if len(open_tasks) <= 60 else ""
        more = f"  + {dict(Counter(o.split()[0] for o in others))}" if others else ""
        print(f"  {time.monotonic() - t0:5.0f}s  unfinished {len(open_tasks)}{tail}{more}", flush=True)
        if not open_tasks and not others:
            return
        time.sleep(5)


def main() -> int:  # noqa: PLR0912, PLR0915 - one scenario, read top to bottom
    wall = time.monotonic()
    rng = random.Random(2026)
    started = localstack.start()
    session = localstack._aws()
    previous_max_result = stack_parameter(session, "MaxResultBytes")
    localstack.deploy(quiet=True, overrides=f"MaxResultBytes={MAX_RESULT_BYTES}")
    deployed = time.monotonic() - wall
    out = localstack.outputs()
    sqs = session.client("sqs")
    visibility: dict[str, str] = {}
    log_offset = localstack.LOG_FILE.stat().st_size if localstack.LOG_FILE.exists() else 0
    since_ms = int(time.time() * 1000)
    problems: list[str] = []
    receiver: Receiver | None = None
    schedule: RecurringSchedule | None = None
    target: Target | None = None
    try:
        for lane in ("High", "Normal", "Low"):
            url = out.raw[f"{lane}QueueUrl"]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
            visibility[lane] = attributes["VisibilityTimeout"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": SOAK_VISIBILITY})
        faulted = switch_faults(session, on=True)
        api = Api(out.api_url, out.api_key)
        secret = api.request("GET", "/webhooks/secret").json()["secret"]
        receiver = Receiver(lambda header, body: verify_signature(secret, header, body)).__enter__()
        offered = {path: api.request("GET", path).status_code == 200 for path in ("/workflows", "/task-types")}
        if offered["/task-types"]:
            target = Target(lambda header, body: verify_signature(secret, header, body)).__enter__()
            target.register(api)
        planned = plan(rng, receiver.url, target.name if target else None)
        schedule = RecurringSchedule(api, session, out.raw["SchedulesTableName"])
        t0 = time.monotonic()
        submit(api, planned)
        print(f"  {time.monotonic() - t0:5.0f}s  submitted", flush=True)
        by_id = {p.task_id: p for p in planned}
        ids = list(by_id)
        owner = _owner(session, out, ids[0])
        delayed = [p for p in planned if p.kind.action == "early duplicate"]
        injected = Counter({"early duplicates of delayed tasks": early_duplicates(session, out.raw, owner, delayed)})
        bodies = [json.dumps({"task_id": t, "owner": owner, "attempt": 1}) for t in rng.sample(ids, 100)]
        injected += inject_faults(session, out.raw, rng, bodies)
        in_parallel(lambda p: cancel(api, p), [p for p in planned if p.kind.action in ("cancel", "cancel+retry")])
        print(f"  {time.monotonic() - t0:5.0f}s  submitted, duplicated, cancelled", flush=True)
        extras = Extras(api, receiver, schedule, owner)
        if offered["/workflows"]:
            extras.workflows = soak_workflows.submit(api, TASKS)
        await_all(api, lambda ids: items(session, out.raw["TasksTableName"], ids), planned, extras, t0)
        elapsed = time.monotonic() - t0
        schedule.end(owner)
        firings = schedule.firings()
        current = items(session, out.raw["TasksTableName"], ids)
        statuses = Counter(_status(current.get(t)) for t in ids)
        lost = sum(n for s, n in statuses.items() if s not in FINISHED)
        wrong = {t: why for t in ids if (why := unplanned(by_id[t], current.get(t)))}
        timed = [p for p in planned if p.kind.action == "early duplicate" or p.kind.name in RATE_LIMITED]
        shown = views(api, timed)
        early = started_early([shown[p.task_id] for p in delayed])
        lateness = Lateness.of([shown[p.task_id] for p in delayed if p.kind.name == "scheduled"])
        rates = {
            name: RateFigures.of(rate, [shown[p.task_id] for p in timed if p.kind.name == name])
            for name, rate in RATE_LIMITED.items()
        }
        webhooks = receiver.figures({p.task_id: _status(current.get(p.task_id)) for p in planned if p.kind.callback})
        flows = soak_workflows.figures(api, extras.workflows) if extras.workflows else None
        nodes = set(flows.tasks) if flows else set()
        ran, given_up = completions(localstack.LOG_FILE, log_offset, set(ids) | set(firings.tasks) | nodes)
        targeted = views(api, [p for p in planned if p.kind.name == URL_TARGET]) if target else {}
        targets = target.figures(targeted, set(given_up)) if target else None
        twice = sorted(t for t, n in ran.items() if n > 1)
        time.sleep(2)  # CloudWatch Logs takes the functions' last lines a moment after they return
        faults = Counter(
            f"{r.get('fault')} {r.get('operation')}:{r.get('transition')}"
            for r in function_logs(session, faulted, since_ms, "fault injected")
            if r.get("task_id") in by_id
        )
        carried = sum(
            1
            for r in function_logs(session, faulted, since_ms, "outcome write refused; trying again")
            if r.get("task_id") in by_id
        )
        errors = Counter(_error_type(current[t]) for t in ids if t in current and _status(current[t]) == "failed")
        answers = Counter(f"{p.kind.action} {p.answers}" for p in planned if p.answers)
    finally:
        if schedule is not None and schedule.ended_at is None:
            try:
                schedule.end(_owner(session, out, planned[0].task_id))
            except Exception as exc:  # reported, and the soak fails
                problems.append(f"schedule {schedule.name} not deleted: {exc}")
        if receiver is not None:
            receiver.__exit__()
        if target is not None:
            target.remove(api)
            target.__exit__()
        if started:
            localstack.stop()
        else:
            problems += restore(session, out, visibility, previous_max_result)
    planned_failures = sum(1 for p in planned if p.kind.expected == "failed")
    kinds = Counter(p.kind.name for p in planned)
    deadline = getattr(limits, "WEBHOOK_TOTAL_TIMEOUT_SECONDS", None)
    found = firings.problems() + webhooks.problems(deadline + TARPIT_SLACK if deadline else float("inf"))
    found += [problem for figures in rates.values() for problem in figures.problems()]
    found += (flows.problems() if flows else []) + (targets.problems() if targets else [])
    print(f"""
soak on the local stack (ministack emulator), {time.monotonic() - wall:.0f} s in all: deploy {deployed:.0f} s, \
tasks {elapsed:.0f} s
  submitted                      {len(ids)}   {dict(kinds)}
  completed                      {statuses["completed"]}
  failed                         {statuses["failed"]}   (by error: { {k: v for k, v in errors.items() if k} })
  cancelled                      {statuses["cancelled"]}
  cancel/retry answers           {dict(answers)}
  lost (unfinished at the end)   {lost}
  run to completion twice        {len(twice)}   {twice[:5] or ""}
  outcome writes given up        {len(given_up)}   {given_up[:5] or ""}   (the task then ran again)
  started before their time      {len(early)}   {early[:5] or ""}
  outcomes other than planned    {len(wrong)}   {dict(Counter(wrong.values())) or ""}
  faults injected from outside   {dict(injected)}, {planned_failures} failing/timing-out/crashing tasks
  faults injected in functions   {sum(faults.values())}: {dict(sorted(faults.items()))}
  outcome writes tasklane's own retry carried past the SDK's: {carried}
{report_extras(lateness, rates, webhooks, firings, deadline)}{report_products(flows, targets)}""")
    for problem in problems:
        print(f"stack not restored: {problem}")
    for problem in found:
        print(f"failed: {problem}")
    if not faults:
        print("no fault was injected inside the functions: is TASKLANE_FAULTS taking effect?")
    return 1 if lost or twice or early or wrong or not faults or problems or found else 0


TARPIT_SLACK = 3.0  # the tarpit notices a hang-up within a second; the emulator's host is shared


def _owner(session: Any, out: Any, task_id: str) -> str:
    item = session.client("dynamodb").get_item(TableName=out.raw["TasksTableName"], Key={"task_id": {"S": task_id}})
    return item["Item"]["owner"]["S"]


if __name__ == "__main__":
    sys.exit(main())
