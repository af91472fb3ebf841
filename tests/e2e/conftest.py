"""The stack deployed on the local emulator: started and deployed here unless already running."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from scripts import localstack
from tests.e2e import run

pytestmark = pytest.mark.e2e

FINISHED = ("completed", "failed", "cancelled")


def _session() -> requests.Session:
    """A session whose idempotent requests (GET, PUT, DELETE...; never POST) are sent again when the
    connection is reset: the emulator now and then resets a kept-alive connection as the next request
    goes out on it (seen twice in a long poll of the recurring-schedule test). Answers are never retried."""
    session = requests.Session()
    retry = Retry(total=3, connect=3, read=3, status=0, other=0, backoff_factor=0.2)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def iso(moment: datetime) -> str:
    """A moment as the API writes one: ISO 8601 UTC with milliseconds and Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Caller:
    """One API key: one task owner."""

    base: str
    key: str | None
    session: requests.Session

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**({"x-api-key": self.key} if self.key else {}), **kwargs.pop("headers", {})}
        return self.session.request(method, self.base + path, headers=headers, timeout=60, **kwargs)

    def submit(self, task_type: str, payload: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        answer = self.request("POST", "/tasks", json={"task_type": task_type, "payload": payload or {}, **fields})
        assert answer.status_code == 202, answer.text
        return answer.json()

    def get(self, task_id: str) -> dict[str, Any]:
        answer = self.request("GET", f"/tasks/{task_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def wait(self, task_id: str, timeout: float = 60, until: tuple[str, ...] = FINISHED) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            task = self.get(task_id)
            if task["status"] in until:
                return task
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} still {task['status']} after {timeout}s: {task}")
            time.sleep(0.25)

    def wait_all(self, task_ids: list[str], timeout: float = 120) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        return [self.wait(t, max(1.0, deadline - time.monotonic())) for t in task_ids]


@dataclass
class LocalStack:
    outputs: localstack.Outputs
    session: Any  # boto3 session on the emulator

    def caller(self, key: str | None) -> Caller:
        return Caller(self.outputs.api_url, key, _session())

    def new_api_key(self, rate: float | None = None, burst: int | None = None) -> str:
        """A new key on the stack's usage plan, or on a plan of its own with the given limits."""
        apigateway = self.session.client("apigateway")
        key = apigateway.create_api_key(name=f"e2e-{uuid.uuid4().hex[:8]}", enabled=True)
        if rate is None:
            plan_id = next(p["id"] for p in apigateway.get_usage_plans()["items"] if p["name"].startswith("tasklane-"))
        else:
            plan_id = apigateway.create_usage_plan(
                name=f"e2e-plan-{uuid.uuid4().hex[:8]}",
                apiStages=[{"apiId": self.outputs.raw["ApiId"], "stage": "v1"}],
                throttle={"rateLimit": rate, "burstLimit": burst or 1},
            )["id"]
        apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key["id"], keyType="API_KEY")
        return key["value"]


@pytest.fixture(scope="session")
def stack() -> LocalStack:
    """The one stack of this run: the first process to ask (of the pytest-xdist workers) starts the
    emulator if none answers and deploys, under a file lock; the others wait for it and use it. The
    run's main process stops an emulator the run started (tests/e2e/run.py)."""
    run.deployed(localstack.DEFAULT)
    return LocalStack(localstack.outputs(), localstack._aws())


@pytest.fixture(scope="session")
def alice(stack: LocalStack) -> Caller:
    return stack.caller(stack.outputs.api_key)


@pytest.fixture(scope="session")
def bob(stack: LocalStack) -> Caller:
    return stack.caller(stack.new_api_key())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """A skipped browser test is easy to miss in a green run: say it in red at the very end."""
    from tests.e2e.browser import SKIPPED

    if SKIPPED:
        terminalreporter.write_sep("!", "THE CONSOLE'S BROWSER TESTS DID NOT RUN", red=True, bold=True)
        terminalreporter.write_line(f"reason: {SKIPPED[0]}", red=True, bold=True)
        terminalreporter.write_line(
            "install Debian's chromium and Python Playwright (.ci/run does both) to run them", red=True
        )


# Started first (make e2e hands out whole files: --dist loadfile), so that the run's longest files (a
# second emulator deployed, the schema-driven cases, schedules that wait for minutes) overlap the rest
# instead of trailing after it.
LONG_FIRST = (
    "tests/e2e/test_security.py",
    "tests/e2e/test_bad_input.py",
    "tests/e2e/test_scheduling.py",
    "tests/e2e/test_recurring_schedules.py",
    "tests/e2e/test_stack.py",
    "tests/e2e/test_console.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)), len(LONG_FIRST))

    items.sort(key=rank)  # stable: the others keep their order
