"""GET /webhooks/secret and POST /webhooks/secret/rotate: the caller's webhook signing secret.

Served by the submit function (its role may write the secrets table: the first read makes the
secret). The answers are never cached, and the secret is never logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from tasklane.routes.http import caller, json_response

# The secret routes are seldom called: the secrets table's modules load with the first of them.
if TYPE_CHECKING:
    from tasklane.data.secrets import WebhookSecret

router = Router()

_NO_STORE = {"Cache-Control": "no-store"}


def _answer(secret: WebhookSecret) -> Any:
    return json_response(200, {"secret": secret.secret, "created_at": secret.created_at}, headers=_NO_STORE)


@router.get(
    "/webhooks/secret",
    summary="Read your webhook signing secret (made on first use)",
    responses={200: {"description": "{secret, created_at}: verify Tasklane-Signature with it"}},
)
def read_secret() -> Any:
    from tasklane.data.notifications import notifications
    from tasklane.logic import webhook_secrets

    return _answer(webhook_secrets.secret_for(caller(router), notifications()))


@router.post(
    "/webhooks/secret/rotate",
    summary="Replace your webhook signing secret",
    responses={200: {"description": "{secret, created_at}: the new secret, used from the next delivery on"}},
)
def rotate_secret() -> Any:
    from tasklane.data.notifications import notifications
    from tasklane.logic import webhook_secrets

    return _answer(webhook_secrets.rotate(caller(router), notifications()))
