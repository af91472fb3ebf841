"""TransactWriteItems in the simulated DynamoDB: all or nothing over Put, Update, Delete and
ConditionCheck across tables, as AWS documents it.

- Every condition is evaluated against the items as they are before the transaction; if one fails
  (or an update cannot be applied), nothing is written and the call raises
  TransactionCanceledException with one reason per item, in order: `None` for the items that would
  have passed, `ConditionalCheckFailed` (with the old item when that item asked
  `ReturnValuesOnConditionCheckFailure: ALL_OLD`), `ValidationError`.
- Two operations on one item, no item, more than 100 items, or an entry that is not exactly one
  operation: ValidationException, nothing written.
- ClientRequestToken: a successful transaction's token is remembered for 10 minutes. The same token
  with the same request answers the same success without writing again; with another request,
  IdempotentParameterMismatchException. Past the 10 minutes the token is new again. botocore fills
  in a token of its own when the caller gives none (the parameter is an `idempotencyToken`), so an
  SDK retry of a token-less call is recognised too. (moto ignores tokens; the local emulator honours
  them, see /work/shared/EMULATOR.md.)
- The faults of any write (world.faults): refused (throttled past the SDK's retries: a
  ProvisionedThroughputExceededException, or a cancellation whose reason for one item is
  ThrottlingError or TransactionConflict), applied with its answer lost and the SDK retrying the same
  request (token and all), applied with its answer lost for good, crashes before and after.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tests.simulation.world.expressions import (
    Context,
    ValidationError,
    apply_update,
    holds,
    parse_condition,
    parse_update,
)

if TYPE_CHECKING:
    from tests.simulation.world.dynamodb import FakeDynamoDB

OPERATIONS = ("Put", "Update", "Delete", "ConditionCheck")
TOKEN_LIFETIME_MS = 10 * 60 * 1000
MAX_ITEMS = 100
CONDITION_FAILED = "The conditional request failed"


class Cancelled(Exception):
    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        self.reasons = reasons


def _error(code: str, message: str, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, **extra}, "TransactWriteItems")  # type: ignore[arg-type]


def cancellation(reasons: list[dict[str, Any]]) -> ClientError:
    codes = ", ".join(r["Code"] for r in reasons)
    message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
    return _error("TransactionCanceledException", message, CancellationReasons=copy.deepcopy(reasons))


class Transactions:
    """The transactions of one FakeDynamoDB, with the tokens it remembers."""

    def __init__(self, db: FakeDynamoDB) -> None:
        self.db = db
        self.tokens: dict[str, tuple[str, int]] = {}  # token -> (the request, when it succeeded)
        self.replays = 0  # requests answered from a remembered token, without writing
        self._minted = 0

    def write(self, items: list[dict[str, Any]], token: str | None) -> dict:
        request = json.dumps(items, sort_keys=True)
        if token is None:  # botocore's own token: the same for the SDK's retries of this call
            self._minted += 1
            token = f"sdk-{self.db.world.seed}-{self._minted}"
        items = copy.deepcopy(items)

        def apply() -> dict:
            try:
                return self._apply(items, request, token)
            except Cancelled as exc:
                return {"cancelled": exc.reasons}

        answer = self.db.request("TransactWriteItems", True, apply, self._refusal(len(items)))
        if "cancelled" in answer:
            raise cancellation(answer["cancelled"])
        return answer

    def _refusal(self, count: int) -> Any:
        rng = self.db.world.faults.rng

        def refuse() -> ClientError:
            kind = rng.choice(["ProvisionedThroughputExceededException", "ThrottlingError", "TransactionConflict"])
            if kind == "ProvisionedThroughputExceededException" or count == 0:
                return _error(kind, kind)
            reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in range(count)]
            reasons[rng.randrange(count)] = {"Code": kind, "Message": kind}
            return cancellation(reasons)

        return refuse

    def _apply(self, items: list[dict[str, Any]], request: str, token: str) -> dict:
        now = self.db.world.now_ms()
        remembered = self.tokens.get(token)
        if remembered is not None and now - remembered[1] < TOKEN_LIFETIME_MS:
            if remembered[0] != request:
                raise _error(
                    "IdempotentParameterMismatchException",
                    "Request parameters do not match the parameters of the request with the same token",
                )
            self.replays += 1
            return {}
        changes = self._plan(items)
        reasons = [reason for _, _, _, _, reason in changes]
        if any(r["Code"] != "None" for r in reasons):
            raise Cancelled(reasons)
        for table, key, old, new, _ in changes:
            if new is not False and (old, new) != (None, None):  # a check, or deleting nothing: no write
                self.db.store(table, key, old, new)
        self.tokens[token] = (request, now)
        return {}

    def _plan(self, items: list[dict[str, Any]]) -> list[tuple[str, str, Any, Any, dict[str, Any]]]:
        """(table, key, old item, new item | None (deleted) | False (checked only), reason) per item,
        all read before anything is written."""
        if not items or len(items) > MAX_ITEMS:
            raise _error("ValidationException", f"TransactItems must hold 1 to {MAX_ITEMS} items")
        seen: set[tuple[str, str]] = set()
        changes = []
        for entry in items:
            if len(entry) != 1 or next(iter(entry)) not in OPERATIONS:
                raise _error("ValidationException", "TransactItems can only contain one of " + ", ".join(OPERATIONS))
            ((kind, op),) = entry.items()
            table = op["TableName"]
            if table not in self.db.items:
                raise _error("ResourceNotFoundException", "Requested resource not found")
            key_attr = self.db.keys[table]
            key = op["Item"][key_attr]["S"] if kind == "Put" else self.db.key_of(table, op["Key"])
            if (table, key) in seen:
                raise _error(
                    "ValidationException", "Transaction request cannot include multiple operations on one item"
                )
            seen.add((table, key))
            if kind == "ConditionCheck" and not op.get("ConditionExpression"):
                raise _error("ValidationException", "A ConditionCheck needs a ConditionExpression")
            changes.append(self._one(kind, op, table, key))
        return changes

    def _one(self, kind: str, op: dict[str, Any], table: str, key: str) -> tuple[str, str, Any, Any, dict[str, Any]]:
        old = self.db.items[table].get(key)
        names, values = op.get("ExpressionAttributeNames", {}), op.get("ExpressionAttributeValues", {})
        condition = op.get("ConditionExpression")
        if condition and not holds(parse_condition(condition), Context(old, names, values)):
            reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": CONDITION_FAILED}
            if old is not None and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                reason["Item"] = copy.deepcopy(old)
            return table, key, old, False, reason
        new: Any
        if kind == "Put":
            new = copy.deepcopy(op["Item"])
        elif kind == "Delete":
            new = None
        elif kind == "ConditionCheck":
            new = False
        else:
            try:
                new = apply_update(parse_update(op["UpdateExpression"]), Context(old or dict(op["Key"]), names, values))
            except ValidationError as exc:
                return table, key, old, False, {"Code": "ValidationError", "Message": str(exc)}
        return table, key, old, new, {"Code": "None"}
