"""Lambda targets: a function invoked synchronously with a task's envelope, its answer read back."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.records import record


class InvocationFailed(Exception):
    """Lambda did not run the function (throttled, not found, not allowed, a network error)."""


@record
class FunctionAnswer:
    """What the function returned (its JSON text), or the error it raised (FunctionError set)."""

    payload: bytes
    function_error: str | None

    def error(self) -> tuple[str, str]:
        """The function's errorType and errorMessage (AWS's own when the runtime gave none)."""
        try:
            data: Any = json.loads(self.payload)
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        kind = str(data.get("errorType") or self.function_error or "FunctionError")
        return kind, str(data.get("errorMessage") or "the function failed without a message")


class TargetFunctions:
    """Invoke a target function (RequestResponse); the processors' role may invoke only the functions
    TargetFunctionArns names."""

    def __init__(self, client: Any) -> None:
        self._lambda = client

    def invoke(self, arn: str, event: bytes) -> FunctionAnswer:
        try:
            response = self._lambda.invoke(FunctionName=arn, InvocationType="RequestResponse", Payload=event)
        except (ClientError, BotoCoreError) as exc:
            raise InvocationFailed(f"{type(exc).__name__}: {exc}"[:500]) from None
        return FunctionAnswer(response["Payload"].read(), response.get("FunctionError"))
