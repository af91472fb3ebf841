"""The tasklane Python client: submit tasks, wait for them, read results; verify webhooks."""

from tasklane_client.auth import ApiKeyAuth, IamAuth
from tasklane_client.client import Client
from tasklane_client.errors import (
    AuthError,
    Conflict,
    EndpointError,
    InvalidRequest,
    LargeValueUnavailable,
    NotFound,
    ServerError,
    TaskCancelled,
    TaskFailed,
    TasklaneError,
    Throttled,
    WaitTimeout,
)
from tasklane_client.webhooks import verify_signature
from tasklane_client.workflows import chain, chord, group, task

__all__ = [
    "ApiKeyAuth",
    "AuthError",
    "Client",
    "Conflict",
    "EndpointError",
    "IamAuth",
    "InvalidRequest",
    "LargeValueUnavailable",
    "NotFound",
    "ServerError",
    "TaskCancelled",
    "TaskFailed",
    "TasklaneError",
    "Throttled",
    "WaitTimeout",
    "chain",
    "chord",
    "group",
    "task",
    "verify_signature",
]
