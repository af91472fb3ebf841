"""PromoterFunction (every minute, once per group of shards): queues the scheduled tasks that come due
before its next run. Its schedules give each invocation its group: {"group": n, "groups": N}."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data.services import services
from tasklane.logic.promotion import promote_due
from tasklane.observability import logger, metered, traced


@traced
@metered
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return promote_due(services(), int(event.get("group", 0)), int(event.get("groups", 1))).summary()
