"""POST /tasks/bulk (the submit function) and GET /tasks/bulk/{bulk_id} (the status function): cancel
or retry every task of a filter, in the background, and read its progress."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.data.services import services
from tasklane.logic import bulk
from tasklane.model.errors import BadRequest
from tasklane.routes.http import caller, json_response, require_json

# The submit function's route; it validates its body with tasklane.model.bulk_requests.
router = Router()
# The status function's route: no pydantic on its path.
reads_router = Router()


@router.post(
    "/tasks/bulk",
    summary="Cancel or retry every task of a filter, in the background",
    responses={202: {"description": "Started: follow GET /tasks/bulk/{bulk_id}"}},
)
def start() -> Response[dict[str, Any]]:
    from tasklane.model.bulk_requests import parse_bulk_request

    require_json(router)
    event = router.current_event
    try:
        body = event.json_body if event.body else None
    except UnicodeDecodeError:
        raise
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None
    request = parse_bulk_request(body)
    s = services()
    job = bulk.start_bulk(request.order(), caller(router), s.bulk_jobs, s.bulk_queue, s.settings.retention_days)
    answer = {"bulk_id": job.bulk_id, "status": job.state.value, "dry_run": job.dry_run}
    return json_response(202, answer, headers={"Location": f"/v1/tasks/bulk/{job.bulk_id}"})


@reads_router.get("/tasks/bulk/<bulk_id>", summary="A bulk action's progress")
def progress(bulk_id: str) -> Response[dict[str, Any]]:
    job = bulk.get_bulk(bulk_id, caller(reads_router), services().bulk_jobs)
    return json_response(200, job.public())
