"""POST /schedules, GET /schedules, GET|PATCH|DELETE /schedules/{name}: a caller's recurring schedules."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from tasklane.data.services import services
from tasklane.logic import schedules
from tasklane.model.schedule_requests import SchedulePatch, ScheduleRequest
from tasklane.routes.http import caller, require_json

router = Router()


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


@router.post("/schedules", summary="Create a recurring schedule", responses={201: {"description": "The schedule"}})
def create(request: Annotated[ScheduleRequest, Body()]) -> Response[dict[str, Any]]:
    require_json(router)
    schedule = schedules.create_schedule(request, caller(router), services())
    # relative to the request (POST .../schedules): resolves under any prefix the stage is served at
    return _answer(201, schedule, {"Location": f"schedules/{request.name}"})


@router.get("/schedules", summary="List your schedules")
def list_all() -> Response[dict[str, Any]]:
    return _answer(200, schedules.list_schedules(caller(router), services()))


@router.get("/schedules/<name>", summary="One of your schedules, with its next fire times")
def get(name: str) -> Response[dict[str, Any]]:
    return _answer(200, schedules.get_schedule(caller(router), name, services()))


@router.patch(
    "/schedules/<name>",
    summary="Edit a schedule: its cron or rate, time zone, task, or pause and resume it",
    responses={200: {"description": "The schedule as edited, with its next fire times"}},
)
def patch(name: str, request: Annotated[SchedulePatch, Body()]) -> Response[dict[str, Any]]:
    require_json(router)
    return _answer(200, schedules.edit_schedule(caller(router), name, request, services()))


@router.delete("/schedules/<name>", summary="Delete a schedule", responses={204: {"description": "Deleted"}})
def delete(name: str) -> Response[str]:
    schedules.delete_schedule(caller(router), name, services())
    # An empty body rather than none: the local emulator's API Gateway fails on a null proxy body.
    return Response(status_code=204, body="")
