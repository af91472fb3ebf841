"""The console's task-types and workflow views in a real browser against the local stack: a url type
of the caller's own (a receiver on 127.0.0.1, its query string a secret the page must not show) and
a chain/chord workflow of built-in types, each in a window 1440 and 390 pixels wide."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_console import WIDTHS, assert_fits, screenshot

pytestmark = pytest.mark.e2e
SECRET = "s3cret-token-9f2c"
SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer", "minimum": 0}, "label": {"type": "string", "maxLength": 40}},
    "required": ["n"],
}


class Receiver(http.server.BaseHTTPRequestHandler):
    """A url type's code: answers each envelope with its payload's n doubled."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        answer = json.dumps({"doubled": json.loads(body)["payload"]["n"] * 2}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/run/double"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from tests.e2e.browser import launch_browser

    with launch_browser() as browser:
        yield browser


@pytest.fixture
def carol(stack):
    return stack.caller(stack.new_api_key())


def open_at(browser, caller, path: str, ready: str, width: int) -> Any:
    page = browser.new_page(width=width)
    page.goto(caller.base + "/console" + path)
    page.get_by_label("API key").fill(caller.key)
    page.get_by_role("button", name="Use key").click()
    page.locator(ready).first.wait_for()
    return page


def add(n: int) -> dict[str, Any]:
    return {"task": {"task_type": "add", "payload": {"n": n}}}


def leaves(tree: dict[str, Any]) -> list[dict[str, Any]]:
    if "task" in tree:
        return [tree["task"]]
    if "chord" in tree:
        return [x for n in tree["chord"]["group"] for x in leaves(n)] + leaves(tree["chord"]["then"])
    return [x for n in tree.get("chain") or tree["group"] for x in leaves(n)]


def finished_workflow(caller) -> dict[str, Any]:
    """A chain of an echo and a chord (three adds, then an add of their sum), run to its end."""
    body = {
        "root": {
            "chain": [
                {"task": {"task_type": "echo", "payload": {"greeting": "hello"}}},
                {"chord": {"group": [add(1), add(2), add(3)], "then": add(10)}},
            ]
        }
    }
    answer = caller.request("POST", "/workflows", json=body)
    assert answer.status_code == 202, answer.text
    workflow_id = answer.json()["workflow_id"]
    deadline = time.monotonic() + 180
    while True:
        workflow = caller.request("GET", f"/workflows/{workflow_id}").json()
        if workflow["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return workflow
        time.sleep(0.5)


@pytest.mark.parametrize("width", WIDTHS)
def test_task_types_show_kinds_targets_without_their_secret_and_schemas(browser, carol, receiver, width):
    name = f"double-{uuid.uuid4().hex[:6]}"
    url = f"{receiver}?token={SECRET}"
    created = carol.request(
        "PUT",
        f"/task-types/{name}",
        json={
            "target": {"url": url},
            "payload_schema": SCHEMA,
            "timeout_seconds": 20,
            "max_attempts": 2,
            "description": "Doubles n on a service of ours",
        },
    )
    assert created.status_code == 201, created.text
    assert carol.request("GET", f"/task-types/{name}").json()["target"]["url"] == url  # the API does show it
    page = open_at(browser, carol, "#/task-types", "#task-types tbody tr", width)
    own = page.locator(f'#task-types tr[data-task-type="{name}"]')
    cells = own.locator("td")
    assert cells.nth(0).inner_text() == "url"
    assert cells.nth(1).inner_text() == f"{receiver} (query hidden)"
    assert cells.nth(2).inner_text() == "sync"
    assert cells.nth(3).inner_text() == "priority normal, timeout 20 s, 2 attempts"
    assert SECRET not in page.content()
    echo = page.locator('#task-types tr[data-task-type="echo"] td')
    assert (echo.nth(0).inner_text(), echo.nth(1).inner_text()) == ("builtin", "runs in tasklane")
    # The schema is folded until asked for, then pretty-printed.
    schema = own.locator("pre")
    assert not schema.is_visible()
    own.get_by_text("payload schema").click()
    assert json.loads(schema.inner_text()) == SCHEMA
    assert '\n  "type": "object"' in schema.inner_text()
    assert_fits(page)
    if width == 1440:
        screenshot(page, "task-types")
    # A task of that type says its kind on its page.
    task = carol.submit(name, {"n": 21})
    assert carol.wait(task["task_id"])["result"] == {"doubled": 42}
    page.goto(carol.base + f"/console#/tasks/{task['task_id']}")
    assert page.locator("#task-fields dd[data-field=kind]").inner_text() == "url"
    browser.assert_no_errors(page)
    assert carol.request("DELETE", f"/task-types/{name}").status_code == 204


@pytest.mark.parametrize("width", WIDTHS)
def test_a_workflow_shows_as_its_tree_with_each_task_s_status_and_links_both_ways(browser, carol, width):
    workflow = finished_workflow(carol)
    assert workflow["status"] == "completed", workflow
    workflow_id = workflow["workflow_id"]
    page = open_at(browser, carol, "#/workflows", "#workflows tbody tr", width)
    listed = page.locator(f'#workflows tr[data-workflow-id="{workflow_id}"] td')
    assert (listed.nth(1).inner_text(), listed.nth(2).inner_text()) == ("completed", "5")
    listed.nth(0).get_by_role("link").click()
    page.locator("#workflow-tree li.node-task").first.wait_for()
    assert page.locator("#workflow-fields dd[data-field=status]").inner_text() == "completed"
    assert page.locator("#workflow-fields dd[data-field=tasks]").inner_text() == "5 (5 completed)"
    tree = page.locator("#workflow-tree")
    assert tree.locator(".node-kind").all_inner_texts() == [
        "chain: 2 steps, one after another",
        "chord",
        "group: 3 at once",
        "then, with their results",
    ]
    ids = [leaf["task_id"] for leaf in leaves(workflow["tree"])]
    nodes = tree.locator("li.node-task")
    assert [nodes.nth(i).get_attribute("data-task-id") for i in range(5)] == ids
    assert [nodes.nth(i).locator(".status").inner_text() for i in range(5)] == ["completed"] * 5
    assert json.loads(page.locator("#workflow-result pre").inner_text()) == 16
    assert_fits(page)
    if width == 1440:
        screenshot(page, "workflow")
    # A task node opens the task, whose page links back to the workflow.
    nodes.nth(4).get_by_role("link").click()
    page.locator("#task-fields dd[data-field=workflow] a").wait_for()
    assert page.locator("#task-fields dd[data-field=kind]").inner_text() == "builtin"
    page.locator("#task-fields dd[data-field=workflow] a").click()
    page.locator("#workflow-fields dd[data-field=status]").wait_for()
    assert page.locator("#workflow-title").inner_text() == f"Workflow {workflow_id}"
    browser.assert_no_errors(page)


def test_each_attempt_shows_how_and_when_it_ended(browser, carol):
    task = carol.submit("fail", {"message": "boom", "succeed_on_attempt": 2}, max_attempts=3)
    assert carol.wait(task["task_id"])["status"] == "completed"
    page = open_at(browser, carol, f"#/tasks/{task['task_id']}", "#task-attempts tbody tr", 1440)
    rows = page.locator("#task-attempts tbody tr")
    assert rows.count() == 2
    failed, completed = (rows.nth(i).locator("td").all_inner_texts() for i in range(2))
    assert (failed[0], failed[1], failed[3]) == ("1", "failed", "IntentionalFailure: boom")
    assert (completed[0], completed[1], completed[3]) == ("2", "completed", "")
    assert all(row[2] not in ("", "—") for row in (failed, completed))  # when each ended
    browser.assert_no_errors(page)
