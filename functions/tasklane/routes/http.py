"""What every route shares: who the caller is, JSON answers, and the one error body."""

from __future__ import annotations

import hashlib
import json
from http import HTTPStatus
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from tasklane.model.errors import (
    BadRequest,
    ServiceUnavailable,
    TasklaneError,
    Unauthenticated,
    UnsupportedMediaType,
    field_details,
)
from tasklane.observability import logger
from tasklane.settings import settings


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":"), default=str),
        headers=headers,
    )


def error_response(status: int, code: str, message: str, details: Any = None) -> Response[Any]:
    return json_response(status, {"error": {"code": code, "message": message, "details": details}})


def _event(app: BaseRouter) -> APIGatewayProxyEvent:
    return cast(APIGatewayProxyEvent, app.current_event)


def caller(app: BaseRouter) -> str:
    """The task owner: the API key id or the IAM principal API Gateway authenticated, never the body."""
    event = _event(app)
    identity = event.request_context.identity
    if settings().auth_mode == "api_key":
        owner = identity.api_key_id or _validated_key_digest(event)
    else:
        owner = identity.user_arn or identity.caller or identity.access_key
    if not owner:
        raise Unauthenticated("no authenticated identity in the request: sign it with SigV4 or send an API key")
    return owner


def _validated_key_digest(event: APIGatewayProxyEvent) -> str | None:
    """API Gateway validated the x-api-key header before invoking us (every route but /health
    requires it), so a digest of it names the key when the gateway leaves apiKeyId out, as the
    local emulator does. The key itself is never stored."""
    key = event.headers.get("x-api-key") if event.headers else None
    return "apikey-sha256:" + hashlib.sha256(key.encode()).hexdigest()[:32] if key else None


def correlation_id(app: BaseRouter) -> str:
    return _event(app).request_context.request_id or app.lambda_context.aws_request_id


def require_json(app: BaseRouter) -> None:
    """UnsupportedMediaType, naming the content type sent, unless the body is JSON (or says nothing)."""
    headers = app.current_event.headers or {}
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    if content_type and content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(f"content type {content_type!r} is not supported: send application/json")


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every error to {"error": {code, message, details}} with its status, in one place."""

    @app.exception_handler(TasklaneError)
    def domain_error(exc: TasklaneError) -> Response[Any]:
        if isinstance(exc, ServiceUnavailable):
            # What AWS said goes to the log only: its text names roles, the account and tables.
            logger.warning("a service did not answer", extra={"error": exc.reason[:500]})
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[Any]:
        try:
            require_json(app)
        except UnsupportedMediaType as media:
            return domain_error(media)
        errors = exc.errors()
        if any(err.get("type") == "json_invalid" for err in errors):
            return domain_error(BadRequest("the body is not valid JSON"))
        details = field_details(errors)
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", "the request is not valid", details)

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_media(exc: RequestUnsupportedContentType) -> Response[Any]:
        # The answer every route gives (require_json), naming the content type; Powertools raises this
        # only for a type that is not JSON, which require_json refuses too.
        try:
            require_json(app)
        except UnsupportedMediaType as media:
            return domain_error(media)
        return invalid_request(exc)

    @app.exception_handler(RecursionError)
    def too_deep(exc: RecursionError) -> Response[Any]:
        return domain_error(BadRequest("the body is nested too deeply"))

    @app.exception_handler(UnicodeDecodeError)
    def not_utf8(exc: UnicodeDecodeError) -> Response[Any]:
        return domain_error(BadRequest("the body is not UTF-8"))

    @app.exception_handler(NotFoundError)
    def no_route(exc: NotFoundError) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, "route_not_found", "no such route")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error; it has been logged")
