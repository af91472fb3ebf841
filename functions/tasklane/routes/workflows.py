"""POST /workflows, DELETE /workflows/{workflow_id} (the submit function's) and GET /workflows,
GET /workflows/{workflow_id} (the status function's: read-only, without pydantic)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.data.services import services
from tasklane.logic.workflows import views
from tasklane.routes.http import caller, correlation_id, json_response
from tasklane.routes.reads import QueryParameter, parse_list_query

writes = Router()
reads = Router()

LIST_QUERY = (
    QueryParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size"),
    QueryParameter("cursor", {"type": "string", "minLength": 1, "maxLength": 512}, "next_cursor of the last page"),
)


def model_requests() -> dict[tuple[str, str], tuple[Any, Any]]:
    """The body and headers POST /workflows validates (loaded with pydantic, by the document and the route)."""
    from tasklane.model.requests import WriteHeaders
    from tasklane.model.workflow_requests import WorkflowRequest

    return {("/workflows", "post"): (WorkflowRequest, WriteHeaders)}


def _accepted(body: dict[str, Any]) -> Response[Any]:
    return json_response(202, body, {"Location": f"/v1/workflows/{body['workflow_id']}"})


@writes.post(
    "/workflows", summary="Submit a workflow (chain, group, chord)", responses={202: {"description": "The workflow"}}
)
def submit() -> Response[dict[str, Any]]:
    from tasklane.logic.workflows.creation import submit_workflow
    from tasklane.model import values
    from tasklane.model.workflow_requests import WorkflowRequest
    from tasklane.routes.writes import request_of

    request, idempotency_key = request_of(writes, WorkflowRequest)
    owner, cid = caller(writes), correlation_id(writes)
    if idempotency_key is None:
        workflow = submit_workflow(request, owner, services(), cid)
        return _accepted(views.workflow_view(workflow, services()))
    from tasklane.data.idempotency import Replayable, once

    def accept() -> dict[str, Any]:
        return {"workflow_id": submit_workflow(request, owner, services(), cid).workflow_id}

    fingerprint = values.fingerprint(request.model_dump(mode="json"))
    record, _ = once(Replayable("workflow", owner, idempotency_key, fingerprint), accept, writes.lambda_context)
    return _accepted(views.workflow_view(views.owned_workflow(record["workflow_id"], owner, services()), services()))


@writes.delete("/workflows/<workflow_id>", summary="Cancel a workflow: what has not started never will")
def cancel(workflow_id: str) -> Response[dict[str, Any]]:
    from tasklane.logic.workflows.commands import cancel_workflow

    return json_response(200, cancel_workflow(workflow_id, caller(writes), services()))


@reads.get("/workflows", summary="List the caller's workflows, newest first")
def list_workflows() -> Response[dict[str, Any]]:
    query = parse_list_query(reads.current_event.query_string_parameters or {}, LIST_QUERY)
    return json_response(200, views.list_workflows(caller(reads), query["limit"], query["cursor"], services()))


@reads.get("/workflows/<workflow_id>", summary="Read a workflow: status, counts, tree, result")
def get_workflow(workflow_id: str) -> Response[dict[str, Any]]:
    workflow = views.owned_workflow(workflow_id, caller(reads), services())
    return json_response(200, views.workflow_view(workflow, services()))
