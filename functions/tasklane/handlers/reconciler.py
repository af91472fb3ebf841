"""ReconcilerFunction (scheduled): re-sends lost pending tasks and fails tasks stuck processing."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasklane.data.services import services
from tasklane.logic.recovery import reconcile
from tasklane.observability import logger, metered, traced


@traced
@metered
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asdict(reconcile(services()))
