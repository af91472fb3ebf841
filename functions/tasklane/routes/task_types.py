"""PUT /task-types/{name}, GET /task-types, GET|DELETE /task-types/{name}: the task types a caller
may submit, the built-ins first (their payload schemas derived from their models), then their own."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from tasklane.data.services import services
from tasklane.logic import task_types
from tasklane.model.task_type_requests import TaskTypeRequest
from tasklane.routes.http import caller, require_json

router = Router()


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


@router.put(
    "/task-types/<name>",
    summary="Register or replace a task type of your own",
    responses={200: {"description": "The replaced type"}, 201: {"description": "The new type"}},
)
def put(name: str, request: Annotated[TaskTypeRequest, Body()]) -> Response[dict[str, Any]]:
    require_json(router)
    task_type, created = task_types.register(name, request, caller(router), services())
    return _answer(201 if created else 200, task_type.public(), {"Location": f"/v1/task-types/{name}"})


@router.get("/task-types", summary="Every task type you may submit: the built-ins, then yours")
def list_all() -> Response[dict[str, Any]]:
    return _answer(200, task_types.list_types(caller(router), services()))


@router.get("/task-types/<name>", summary="A built-in task type or one of yours")
def get(name: str) -> Response[dict[str, Any]]:
    return _answer(200, task_types.get_type(caller(router), name, services()))


@router.delete("/task-types/<name>", summary="Delete a task type of yours", responses={204: {"description": "Deleted"}})
def delete(name: str) -> Response[str]:
    task_types.delete_type(caller(router), name, services())
    # An empty body rather than none: the local emulator's API Gateway fails on a null proxy body.
    return Response(status_code=204, body="")
