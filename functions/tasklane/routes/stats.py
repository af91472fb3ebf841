"""GET /stats: the console's overview (lanes, throughput, counts by status). Read-only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.data.services import services
from tasklane.logic import stats
from tasklane.routes.http import caller, json_response
from tasklane.settings.stats import stats_settings

router = Router()


@router.get("/stats", summary="Lane figures, throughput per minute and the caller's tasks by status")
def get_stats() -> Response[dict[str, Any]]:
    return json_response(200, stats.overview(caller(router), services(), stats_settings()).public())
