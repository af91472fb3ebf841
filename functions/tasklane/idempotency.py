"""Idempotency-Key: Powertools idempotency keyed on (route, caller, key) and checked against the body."""

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
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane import aws
from tasklane.errors import IdempotencyConflict
from tasklane.settings import settings

REPLAYED = "_replayed"


def _mark_replay(response: Any, record: DataRecord) -> Any:  # an IdempotentHookFunction
    return {**response, REPLAYED: True}


_CONFIG = IdempotencyConfig(
    event_key_jmespath="[route, owner, key]",
    payload_validation_jmespath="body",
    expires_after_seconds=24 * 3600,
    response_hook=_mark_replay,  # type: ignore[arg-type]
)


@cache
def _guarded() -> Callable[..., dict[str, Any]]:
    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table_name, boto3_client=aws.dynamodb())

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=_CONFIG)
    def run(*, request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()

    return run


def once(
    route: str, owner: str, key: str, body: Any, action: Callable[[], dict[str, Any]], context: LambdaContext
) -> tuple[dict[str, Any], bool]:
    """Run `action` once per (route, owner, key) within 24 h; the answer and whether it is a replay."""
    _CONFIG.register_lambda_context(context)  # bounds how long an in-progress record blocks a retry
    try:
        answer = _guarded()(request={"route": route, "owner": owner, "key": key, "body": body}, action=action)
    except IdempotencyValidationError:
        raise IdempotencyConflict(
            "this Idempotency-Key was used with a different request body", {"idempotency_key": key}
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyConflict(
            "a request with this Idempotency-Key is still in progress; retry shortly", {"idempotency_key": key}
        ) from None
    replayed = bool(answer.pop(REPLAYED, False))
    return answer, replayed
