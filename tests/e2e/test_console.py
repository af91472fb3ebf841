"""The console in a real browser (headless Chromium through Playwright) against the local stack:
the page served by the stack at /console, and the same page behind `tasklane console`."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.browser import Browser, launch_browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "console.png"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as browser:
        yield browser


@pytest.fixture
def carol(stack):
    """A caller of her own for each test, so that counts and listings are hers alone."""
    return stack.caller(stack.new_api_key())


def open_console(browser: Browser, caller, path: str = "") -> Any:
    page = browser.new_page()
    page.goto(caller.base + "/console" + path)
    page.get_by_label("API key").fill(caller.key)
    page.get_by_role("button", name="Use key").click()
    if path:
        page.locator("#task-fields dd[data-field=status]").wait_for()  # the task answered
    else:
        page.locator("#lanes tbody tr[data-lane=high]").wait_for()  # the overview answered
    return page


def row(page: Any, task_id: str) -> Any:
    return page.locator(f'#tasks tbody tr[data-task-id="{task_id}"]')


def test_the_stack_answers_the_page_without_a_key(stack):
    answer = requests.get(stack.outputs.api_url + "/console", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert '<meta name="tasklane-auth" content="api_key">' in answer.text
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert requests.get(stack.outputs.api_url + "/console/app.js", timeout=30).status_code == 200
    assert requests.get(stack.outputs.api_url + "/stats", timeout=30).status_code == 403


def test_the_page_shows_the_lanes_with_their_concurrency_and_labelled_controls(browser, carol):
    page = open_console(browser, carol)
    figures = {
        lane: page.locator(f"#lanes tbody tr[data-lane={lane}] td").nth(4).inner_text()
        for lane in ("high", "normal", "low")
    }
    assert figures == {"high": "10", "normal": "5", "low": "2"}
    assert page.locator("#chart canvas").count() == 1
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select')].filter(e => !e.labels.length).map(e => e.name)"
    )
    assert unlabelled == []
    # Keyboard: the filters are reachable and usable without a mouse.
    page.get_by_label("Status").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "task_type"
    browser.assert_no_errors(page)


def test_a_task_submitted_through_the_api_appears_and_reaches_completed(browser, carol, stack):
    page = open_console(browser, carol)
    task = carol.submit("sleep", {"seconds": 2}, priority="high")
    status = row(page, task["task_id"]).locator(".task-status")
    status.wait_for(timeout=30_000)
    page.wait_for_function(
        "id => document.querySelector(`#tasks tr[data-task-id='${id}'] .task-status`).textContent === 'completed'",
        arg=task["task_id"],
        timeout=60_000,
    )
    # One task open: its fields, result and progress, followed live.
    row(page, task["task_id"]).get_by_role("link").click()
    page.locator("#task-fields dd[data-field=status]").filter(has_text="completed").wait_for()
    assert page.locator("#task-progress").get_attribute("value") == "100"
    assert '"slept": 2' in page.locator("#task-result").inner_text()
    assert page.locator("#task-fields dd[data-field='ran for']").inner_text().endswith(" s")
    browser.assert_no_errors(page)
    _screenshot(browser, carol)


def _screenshot(browser: Browser, caller) -> None:
    """docs/console.png: the overview with tasks in every state (written when asked to, so that a test
    run leaves the checkout as it was)."""
    if os.environ.get("TASKLANE_UPDATE_SCREENSHOT") != "1":
        return
    for n in range(6):
        caller.submit("compute", {"n": 10_000 * (n + 1)}, priority=("high", "normal", "low")[n % 3])
    failed = caller.submit("fail", {"mode": "raise", "message": "upstream timed out"}, max_attempts=1)
    caller.submit("send_email", {"to": "ops@example.com", "subject": "hi", "body": "report"}, priority="low")
    caller.submit("echo", {"later": True}, delay_seconds=600)
    running = caller.submit("sleep", {"seconds": 20})
    caller.wait(failed["task_id"])
    caller.wait(running["task_id"], until=("processing",))
    page = open_console(browser, caller)
    page.wait_for_timeout(6_000)  # a refresh with the last progress
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_a_cancel_from_the_page_cancels_the_task(browser, carol):
    task = carol.submit("echo", {"wait": "for me"}, delay_seconds=300)
    page = open_console(browser, carol, f"#/tasks/{task['task_id']}")
    page.get_by_role("button", name="Cancel task").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    answer = page.locator("#answer")
    answer.filter(has_text="is now cancelled").wait_for()
    assert carol.get(task["task_id"])["status"] == "cancelled"
    page.locator("#task-fields dd[data-field=status]").filter(has_text="cancelled").wait_for()
    assert page.get_by_role("button", name="Cancel task").is_disabled()
    browser.assert_no_errors(page)


def test_a_retry_from_the_page_queues_a_failed_task_again(browser, carol):
    task = carol.submit("fail", {"mode": "raise"}, max_attempts=1)
    assert carol.wait(task["task_id"])["status"] == "failed"
    page = open_console(browser, carol, f"#/tasks/{task['task_id']}")
    page.locator("#task-error").filter(has_text="IntentionalFailure").wait_for()
    page.get_by_role("button", name="Retry task").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    page.locator("#answer").filter(has_text=re.compile(r"Retried: task .* is now pending")).wait_for()
    # It ran again: a second attempt, and it fails again, as a `fail` task does.
    again = carol.wait(task["task_id"], until=("failed",), timeout=60)
    assert again["attempts"] == 2
    browser.assert_no_errors(page)


def test_a_bulk_retry_of_failed_tasks_asks_first_and_reports_what_it_did(browser, carol):
    failed = [carol.submit("fail", {"mode": "raise"}, max_attempts=1)["task_id"] for _ in range(2)]
    carol.wait_all(failed)
    page = open_console(browser, carol)
    page.get_by_label("Type").fill("fail")
    page.get_by_role("button", name="Retry failed tasks…").click()
    dialog = page.get_by_role("dialog")
    dialog.filter(has_text="Queue 2 failed tasks (type fail) again?").wait_for()
    dialog.get_by_role("button", name="Confirm").click()
    page.locator("#answer").filter(has_text="Retried 2 of 2 failed tasks.").wait_for()
    assert [t["attempts"] for t in carol.wait_all(failed)] == [2, 2]
    browser.assert_no_errors(page)


def test_a_bad_key_shows_a_clear_message(browser, stack):
    page = browser.new_page()
    page.goto(stack.outputs.api_url + "/console")
    page.get_by_label("API key").fill("not-a-key")
    page.get_by_role("button", name="Use key").click()
    alert = page.get_by_role("alert")
    alert.filter(has_text="The API key was refused (HTTP 403").wait_for()
    assert page.get_by_label("API key").is_visible()  # asked again
    # The only errors are the browser's notes of the refused requests; the page itself raised none.
    assert all("403" in message for message in browser.errors(page)), browser.errors(page)


def test_tasklane_console_serves_the_page_and_signs_the_calls(browser, carol):
    from tasklane_client.auth import ApiKeyAuth
    from tasklane_client.console import ConsoleProxy

    proxy = ConsoleProxy(carol.base, ApiKeyAuth(carol.key), port=0)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        task = carol.submit("echo", {"through": "the proxy"})
        page = browser.new_page()
        page.goto(proxy.url)
        assert not page.get_by_label("API key").is_visible()  # no key asked: the proxy adds it
        row(page, task["task_id"]).wait_for(timeout=30_000)
        page.locator("#lanes tbody tr[data-lane=low]").wait_for()
        # A request from another origin is refused before anything is signed.
        refused = requests.post(
            proxy.url.replace("/console", "/tasks"), json={}, headers={"Origin": "https://evil.example"}, timeout=10
        )
        assert refused.status_code == 403
        browser.assert_no_errors(page)
    finally:
        proxy.shutdown()
        proxy.server_close()
