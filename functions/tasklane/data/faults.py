"""Fault injection for `make soak`: a botocore hook that refuses or loses chosen requests.

Inert unless the environment variable TASKLANE_FAULTS is set, which the template never does; the soak
sets it on the deployed functions (Lambda UpdateFunctionConfiguration) and removes it afterwards.
`tasklane.data.aws` imports this module only when the variable is set, so cold starts are untouched.

    TASKLANE_FAULTS = rule *( ";" rule )
    rule            = target "=" fault *( "," fault )
    target          = Operation [ ":" transition ]
    fault           = mode ":" probability [ ":" times ]

for example

    TASKLANE_FAULTS="UpdateItem:completed=throttle:0.1,lost:0.05;UpdateItem:cancelled=lost:0.3"

- `Operation` is the API operation (UpdateItem, PutItem, ...). For UpdateItem, `transition` is the
  status the write sets: the value its UpdateExpression assigns to the `status` attribute
  (`completed`, `failed`, `pending`, `cancelled`, `processing`). A write that sets no status (progress,
  sweep times) has no transition: only a target without one matches it.
- The first rule whose target matches a request decides for it. Its faults' probabilities (summed at
  most 1) are rolled once per *logical write*: the operation, table, key and transition, so that the
  SDK's retries of one write, and tasklane's own retries of it with fresh timestamps, are one write.
- `throttle[:times]` answers `times` (default 6) consecutive ThrottlingException without sending,
  then lets the write through. The SDK sends a write at most 1 + max_attempts (5) times, so six
  refusals exhaust one SDK call and tasklane's own retry (execution._persist) must carry the write.
- `lost` sends the request for real, then answers ThrottlingException as if the answer had been lost
  on the way back: the SDK sends again a write that was already applied. The retry goes through.

Every fault is logged once, as the structured line "fault injected" (fault, operation, transition,
task_id), which the soak counts in the functions' logs. Answers are DynamoDB's JSON protocol: register
the hook on a DynamoDB client only.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders

from tasklane.observability import logger
from tasklane.records import record

ENV_VAR = "TASKLANE_FAULTS"
MODES = ("throttle", "lost")
DEFAULT_THROTTLE_TIMES = 6  # the SDK's 1 + max_attempts (5) sends of one call (aws.py)

Sender = Callable[[AWSPreparedRequest], Any]


@record
class Fault:
    """One fault a rule injects: how, how likely, and (throttle) how many times."""

    mode: str
    probability: float
    times: int = 1  # throttle: how many sends are refused


@record
class Rule:
    """The faults injected into one operation (and, for UpdateItem, one transition)."""

    operation: str
    transition: str | None  # None: any UpdateItem, with or without a status
    faults: tuple[Fault, ...]

    def matches(self, operation: str, transition: str | None) -> bool:
        return self.operation == operation and (self.transition is None or self.transition == transition)


def parse(spec: str) -> list[Rule]:
    """The rules of a TASKLANE_FAULTS value; ValueError naming the part that is wrong."""
    rules: list[Rule] = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        target, sep, fault_list = part.partition("=")
        if not sep or not target.strip():
            raise ValueError(f"{ENV_VAR}: {part!r} is not target=fault[,fault...]")
        operation, _, transition = (s.strip() for s in target.partition(":"))
        if not operation.isalnum():
            raise ValueError(f"{ENV_VAR}: {operation!r} is not an operation name")
        faults = tuple(_fault(text.strip()) for text in fault_list.split(","))
        if sum(f.probability for f in faults) > 1:
            raise ValueError(f"{ENV_VAR}: the probabilities of {part!r} add up to more than 1")
        rules.append(Rule(operation, transition or None, faults))
    return rules


def _fault(text: str) -> Fault:
    mode, *numbers = text.split(":")
    if mode not in MODES or len(numbers) not in (1, 2) or (mode == "lost" and len(numbers) == 2):
        raise ValueError(f"{ENV_VAR}: {text!r} is not throttle:probability[:times] or lost:probability")
    try:
        probability = float(numbers[0])
        times = int(numbers[1]) if len(numbers) == 2 else DEFAULT_THROTTLE_TIMES
    except ValueError:
        raise ValueError(f"{ENV_VAR}: {text!r} has a malformed number") from None
    if not 0 <= probability <= 1 or times < 1:
        raise ValueError(f"{ENV_VAR}: {text!r}: probability must be in 0..1 and times at least 1")
    return Fault(mode, probability, times if mode == "throttle" else 1)


def transition(body: dict[str, Any]) -> str | None:
    """The status an UpdateItem request sets (the value its UpdateExpression gives `status`), if any."""
    expression = body.get("UpdateExpression") or ""
    aliases = [alias for alias, name in (body.get("ExpressionAttributeNames") or {}).items() if name == "status"]
    values = body.get("ExpressionAttributeValues") or {}
    for alias in aliases:
        found = re.search(rf"{re.escape(alias)}\s*=\s*(:\w+)", expression)
        if found and found.group(1) in values:
            value = values[found.group(1)]
            return str(value.get("S")) if isinstance(value, dict) else None
    return None


class _Raw:
    """The raw stream of a synthetic response body."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self.body


def throttling_response(url: str) -> AWSResponse:
    """A DynamoDB ThrottlingException answer (HTTP 400), which the SDK retries."""
    code = "ThrottlingException"
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected fault"}).encode()
    headers = HTTPHeaders()
    headers["x-amzn-ErrorType"] = code
    headers["Content-Type"] = "application/x-amz-json-1.0"
    return AWSResponse(url, 400, headers, _Raw(body))


@dataclass
class _Pending:
    """A fault chosen for one logical write, not yet played out."""

    fault: Fault
    refused: int = 0  # sends the fault has answered so far (lost: the one it sent for real)


class FaultInjector:
    """The before-send hook. `send` sends a prepared request for real (the `lost` mode)."""

    def __init__(self, rules: list[Rule], send: Sender, rng: random.Random | None = None) -> None:
        self.rules = rules
        self._send = send
        self._rng = rng or random.Random()
        self._pending: dict[tuple[str, ...], _Pending] = {}
        self._lock = threading.Lock()

    def __call__(self, request: AWSPreparedRequest, event_name: str = "", **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1] if event_name.count(".") >= 2 else _target(request)
        if not any(r.operation == operation for r in self.rules):
            return None
        body = _body(request)
        state = transition(body) if operation == "UpdateItem" else None
        rule = next((r for r in self.rules if r.matches(operation, state)), None)
        if rule is None:
            return None
        key = json.dumps(body.get("Key") or body.get("Item") or body, sort_keys=True)
        identity = (operation, str(body.get("TableName")), key, state or "")
        with self._lock:
            pending = self._pending.get(identity)
            if pending is None:
                fault = self._roll(rule)
                if fault is None:
                    return None
                pending = self._pending[identity] = _Pending(fault)
            if pending.refused >= pending.fault.times:
                del self._pending[identity]  # played out: this send goes through, the next write rolls anew
                return None
            pending.refused += 1
            first = pending.refused == 1
        if pending.fault.mode == "throttle":
            if first:
                _log(pending.fault, operation, state, body)
            return throttling_response(request.url)
        # lost: the write is sent and applied; its answer never arrives, so the SDK sends it again
        answer = self._send(request)
        _log(pending.fault, operation, state, body, applied_status=answer.status_code)
        return throttling_response(request.url)

    def _roll(self, rule: Rule) -> Fault | None:
        draw = self._rng.random()
        for fault in rule.faults:
            if draw < fault.probability:
                return fault
            draw -= fault.probability
        return None


def _target(request: AWSPreparedRequest) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    text = target.decode() if isinstance(target, bytes) else str(target)
    return text.rsplit(".", 1)[-1]


def _body(request: AWSPreparedRequest) -> dict[str, Any]:
    raw = request.body
    if isinstance(raw, bytes | str) and raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _log(fault: Fault, operation: str, state: str | None, body: dict[str, Any], **more: Any) -> None:
    """One structured line per fault (not per refused send), which the soak counts."""
    key = body.get("Key") or {}
    task_id = (key.get("task_id") or {}).get("S") if isinstance(key, dict) else None
    details: dict[str, Any] = {"fault": fault.mode, "operation": operation, "transition": state or "", **more}
    if task_id:
        details["task_id"] = task_id
    if fault.mode == "throttle":
        details["times"] = fault.times
    logger.warning("fault injected", extra=details)


def install(client: Any, spec: str) -> FaultInjector:
    """Register the hook described by `spec` on `client` (a boto3 DynamoDB client)."""
    endpoint = getattr(client, "_endpoint", None)
    session = getattr(endpoint, "http_session", None)  # the client's own connection pool, if it has one
    if session is None:
        from botocore.httpsession import URLLib3Session

        session = URLLib3Session()
    injector = FaultInjector(parse(spec), session.send)
    client.meta.events.register_first("before-send", injector)
    logger.warning("fault injection on", extra={"faults": spec})
    return injector
