"""Idempotency-Key: Powertools idempotency keyed on (route, caller, key) and checked against the body.

A record holds what the action returns, which callers keep small (task ids, not tasks): a record
must fit in one DynamoDB item, and one that cannot be saved would let a retry create the tasks again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data import aws
from tasklane.limits import IDEMPOTENCY_KEY_SECONDS
from tasklane.model.errors import IdempotencyConflict, ServiceUnavailable
from tasklane.observability import logger
from tasklane.records import record
from tasklane.settings import settings

REPLAYED = "_replayed"


def _mark_replay(response: Any, record: DataRecord) -> Any:  # an IdempotentHookFunction
    return {**response, REPLAYED: True}


_CONFIG = IdempotencyConfig(
    event_key_jmespath="[route, owner, key]",
    payload_validation_jmespath="body",
    expires_after_seconds=IDEMPOTENCY_KEY_SECONDS,
    response_hook=_mark_replay,  # type: ignore[arg-type]
)


@cache
def _guarded() -> Callable[..., dict[str, Any]]:
    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table_name, boto3_client=aws.dynamodb())

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=_CONFIG)
    def run(*, request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()

    return run


@record
class Replayable:
    """A request that an Idempotency-Key makes happen once: its route, caller, key and a fingerprint of
    its body (the same key with another body is a conflict)."""

    route: str
    owner: str
    key: str
    fingerprint: str


def once(
    request: Replayable, action: Callable[[], dict[str, Any]], context: LambdaContext
) -> tuple[dict[str, Any], bool]:
    """Run `action` once per (route, owner, key) within 24 h; its record and whether it is a replay."""
    _CONFIG.register_lambda_context(context)  # bounds how long an in-progress record blocks a retry
    ran: list[dict[str, Any]] = []

    def remembered() -> dict[str, Any]:
        ran.append(action())
        return ran[-1]

    try:
        key = {"route": request.route, "owner": request.owner, "key": request.key, "body": request.fingerprint}
        answer = _guarded()(request=key, action=remembered)
    except IdempotencyValidationError:
        raise IdempotencyConflict(
            "this Idempotency-Key was used with a different request body", {"idempotency_key": request.key}
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyConflict(
            "a request with this Idempotency-Key is still in progress; retry shortly", {"idempotency_key": request.key}
        ) from None
    except IdempotencyPersistenceLayerError:
        if not ran:
            raise ServiceUnavailable("the idempotency record could not be written; nothing was done") from None
        # The work is done but its record was not saved: answer it. A retry within the in-progress
        # window is refused as in progress; the record's loss is logged for the operator.
        logger.exception("idempotency record not saved after the action ran", extra={"route": request.route})
        return ran[-1], False
    replayed = bool(answer.pop(REPLAYED, False))
    return answer, replayed
