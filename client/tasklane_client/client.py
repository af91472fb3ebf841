"""The HTTP client: one method per API route, grouped by resource (task_routes, bulk_routes,
workflow_routes, schedule_routes, task_type_routes), over one connection (retries of throttles and
server errors, typed errors). The wire is tasklane_client.transport; large values, tasklane_client.values."""

from __future__ import annotations

from tasklane_client.auth import Auth
from tasklane_client.bulk_routes import BulkRoutes
from tasklane_client.connection import Connection
from tasklane_client.schedule_routes import ScheduleRoutes
from tasklane_client.task_routes import SubmitOptions, TaskRoutes
from tasklane_client.task_type_routes import TaskTypeRoutes
from tasklane_client.transport import Answer, Stream, StreamingTransport, Transport, Urllib3Transport, urllib3_transport
from tasklane_client.values import Writable
from tasklane_client.workflow_routes import WorkflowRoutes

# Kept importable from here, where they were first defined.
__all__ = [
    "Answer",
    "Client",
    "Stream",
    "StreamingTransport",
    "SubmitOptions",
    "Transport",
    "Urllib3Transport",
    "Writable",
    "urllib3_transport",
]


class Client(TaskRoutes, BulkRoutes, WorkflowRoutes, ScheduleRoutes, TaskTypeRoutes):
    """A tasklane API client.

    >>> client = Client("https://abc.execute-api.us-east-1.amazonaws.com/v1", IamAuth())
    >>> task = client.submit("compute", {"n": 1_000_000}, priority="high")
    >>> client.wait(task["task_id"])["result"]
    499999500000

    Large values (over the API's inline threshold, 64 KiB) are not in the task view: `payload` or
    `result` is null and `payload_url` / `result_url` is a short-lived presigned URL. `result()`
    and `get(..., fetch_values=True)` read them from there; `download_result()` streams a result
    to a file.
    """

    def __init__(
        self,
        endpoint: str,
        auth: Auth | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        transport: Transport | None = None,
    ) -> None:
        self.connection = Connection(endpoint, auth, timeout=timeout, max_retries=max_retries, transport=transport)

    @property
    def endpoint(self) -> str:
        return self.connection.endpoint

    @property
    def auth(self) -> Auth | None:
        return self.connection.auth

    @property
    def timeout(self) -> float:
        return self.connection.timeout

    @property
    def max_retries(self) -> int:
        return self.connection.max_retries
