"""The console in a real browser (headless Chromium through Playwright) against the local stack:
the page served by the stack at /console, and the same page behind `tasklane console`. Each view is
checked in a window 1440 pixels wide and one 390 pixels wide (a phone)."""

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
DOCS = ROOT / "docs"
WIDTHS = [1440, 390]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as browser:
        yield browser


@pytest.fixture
def carol(stack):
    """A caller of her own for each test, so that counts and listings are hers alone."""
    return stack.caller(stack.new_api_key())


READY = {
    "": "#lanes tbody tr[data-lane=high]",  # the overview answered
    "#/tasks": "#tasks-view tbody tr",
    "#/failed": "#failed-view tbody tr",
    "#/scheduled": "#scheduled-view tbody tr",
    "#/schedules": "#schedules tbody tr",
}


def open_console(browser: Browser, caller, path: str = "", width: int = 1440) -> Any:
    page = browser.new_page(width=width)
    page.goto(caller.base + "/console" + path)
    page.get_by_label("API key").fill(caller.key)
    page.get_by_role("button", name="Use key").click()
    if path.startswith("#/tasks/"):
        page.locator("#task-fields dd[data-field=status]").wait_for()  # the task answered
    else:
        page.locator(READY[path.split("?", maxsplit=1)[0]]).first.wait_for()
    return page


def view(page: Any, name: str) -> Any:
    return page.locator(f"#{name}-view")


def row(page: Any, task_id: str) -> Any:
    return page.locator(f'main section:not([hidden]) tbody tr[data-task-id="{task_id}"]')


def assert_fits(page: Any) -> None:
    """Nothing makes the page scroll sideways: wide tables scroll inside their own box."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


def screenshot(page: Any, name: str) -> None:
    """docs/console-<name>.png (written when asked to, so that a test run leaves the checkout as it was)."""
    if os.environ.get("TASKLANE_UPDATE_SCREENSHOT") == "1":
        page.screenshot(path=str(DOCS / f"console-{name}.png"), full_page=True)


def test_the_stack_answers_the_page_and_its_modules_without_a_key(stack):
    answer = requests.get(stack.outputs.api_url + "/console", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert '<meta name="tasklane-auth" content="api_key">' in answer.text
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    for module in ("app.js", "core.js", "bulk.js", "view-overview.js", "view-task.js", "view-schedules.js"):
        served = requests.get(stack.outputs.api_url + "/console/" + module, timeout=30)
        assert served.status_code == 200, module
        assert served.headers["content-type"].startswith("text/javascript")
    assert requests.get(stack.outputs.api_url + "/stats", timeout=30).status_code == 403


@pytest.mark.parametrize("width", WIDTHS)
def test_the_overview_shows_lanes_a_readable_chart_and_fits_the_window(browser, carol, width):
    for n in range(3):
        carol.submit("echo", {"n": n})
    page = open_console(browser, carol, width=width)
    figures = {
        lane: page.locator(f"#lanes tbody tr[data-lane={lane}] td").nth(4).inner_text()
        for lane in ("high", "normal", "low")
    }
    assert figures == {"high": "10", "normal": "5", "low": "2"}
    assert page.locator("#chart canvas").count() == 1
    # Before any pointer is on the chart, its legend shows the last minute's figures, not "--".
    legend = page.locator("#chart .u-legend .u-value")
    legend.first.wait_for()
    assert "--" not in legend.all_inner_texts()
    assert all(re.fullmatch(r"\d+", text) for text in legend.all_inner_texts()[1:]), legend.all_inner_texts()
    assert "logarithmic" in page.locator("#throughput-summary").inner_text()
    # The lanes table is within the window, even a phone's.
    right = page.evaluate("document.querySelector('#lanes').getBoundingClientRect().right")
    assert right <= width
    assert_fits(page)
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select')].filter(e => !e.labels.length).map(e => e.name)"
    )
    assert unlabelled == []
    # The menu names every view; the one shown is marked.
    menu = page.get_by_role("navigation", name="Views")
    assert menu.get_by_role("link").all_inner_texts() == [
        "Overview",
        "Tasks",
        "Scheduled",
        "Failed",
        "Schedules",
        "Workflows",
        "Task types",
    ]
    assert menu.locator("[aria-current=page]").inner_text() == "Overview"
    browser.assert_no_errors(page)


def test_the_updated_clock_keeps_ticking_on_a_task_page(browser, carol):
    task = carol.submit("echo", {"x": 1})
    carol.wait(task["task_id"])
    page = open_console(browser, carol, f"#/tasks/{task['task_id']}")
    connection = page.locator("#connection")
    first = connection.inner_text()
    assert first.startswith("updated ")
    page.wait_for_timeout(2_500)
    assert connection.inner_text() != first  # "(2 s ago)", then a fresh read
    # The heading is focused on arrival (screen readers) without a thick box around it.
    assert page.evaluate("document.activeElement.id") == "task-title"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "none"
    browser.assert_no_errors(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_tasks_view_keeps_its_filters_in_the_url_and_shows_whole_ids(browser, carol, width):
    echo = carol.submit("echo", {"kind": "echo"})
    compute = carol.submit("compute", {"n": 10})
    carol.wait_all([echo["task_id"], compute["task_id"]])
    page = open_console(browser, carol, "#/tasks", width=width)
    tasks = view(page, "tasks")
    tasks.get_by_label("Type").fill("echo")
    tasks.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"#/tasks\?task_type=echo$"))
    row(page, compute["task_id"]).wait_for(state="detached")
    row(page, echo["task_id"]).wait_for()
    # The URL carries the filter: opened again, the page shows the same list.
    page.reload()
    view(page, "tasks").locator(".page-label").wait_for()
    row(page, echo["task_id"]).wait_for()
    assert tasks.get_by_label("Type").input_value() == "echo"
    assert row(page, compute["task_id"]).count() == 0
    # The whole id: on hover (title), and copied by the row's button.
    link = row(page, echo["task_id"]).get_by_role("link")
    assert link.inner_text() == echo["task_id"][:8]
    assert link.get_attribute("title") == echo["task_id"]
    row(page, echo["task_id"]).get_by_role("button", name=f"copy id {echo['task_id']}").click()
    assert page.evaluate("navigator.clipboard.readText()") == echo["task_id"]
    assert_fits(page)
    screenshot(page, f"tasks-{width}")
    # Search by id opens the task.
    tasks.get_by_label("Task id").fill(compute["task_id"].upper())
    tasks.get_by_role("button", name="Open task").click()
    page.locator("#task-title").filter(has_text=compute["task_id"]).wait_for()
    browser.assert_no_errors(page)


def test_a_task_submitted_through_the_api_appears_and_reaches_completed(browser, carol):
    page = open_console(browser, carol)
    task = carol.submit("sleep", {"seconds": 2}, priority="high")
    row(page, task["task_id"]).locator(".task-status").wait_for(timeout=30_000)
    page.wait_for_function(
        "id => document.querySelector(`#overview-view tr[data-task-id='${id}'] .task-status`).textContent"
        " === 'completed'",
        arg=task["task_id"],
        timeout=60_000,
    )
    # One task open: its fields, result and progress, followed live.
    row(page, task["task_id"]).get_by_role("link").click()
    page.locator("#task-fields dd[data-field=status]").filter(has_text="completed").wait_for()
    assert page.locator("#task-progress").get_attribute("value") == "100"
    assert '"slept": 2' in page.locator("#task-result").inner_text()
    assert page.locator("#task-fields dd[data-field='ran for']").inner_text().endswith(" s")
    assert "no callback URL" in page.locator("#task-deliveries").inner_text()
    browser.assert_no_errors(page)


def test_the_banner_of_an_action_stays_on_its_page(browser, carol):
    first = carol.submit("echo", {"wait": "for me"}, delay_seconds=300)
    second = carol.submit("echo", {"wait": "me too"}, delay_seconds=300)
    page = open_console(browser, carol, f"#/tasks/{first['task_id']}")
    assert page.locator("#task-fields dd[data-field='runs at']").inner_text() != "—"
    page.get_by_role("button", name="Cancel task").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    page.locator("#answer").filter(has_text="is now cancelled").wait_for()
    assert carol.get(first["task_id"])["status"] == "cancelled"
    page.locator("#task-fields dd[data-field=status]").filter(has_text="cancelled").wait_for()
    assert page.get_by_role("button", name="Cancel task").is_disabled()
    # The next task's page starts without the last one's banner.
    page.goto(carol.base + f"/console#/tasks/{second['task_id']}")
    page.locator("#task-title").filter(has_text=second["task_id"]).wait_for()
    assert page.locator("#answer").is_hidden()
    browser.assert_no_errors(page)


def test_a_retry_from_the_page_queues_a_failed_task_again(browser, carol):
    task = carol.submit("fail", {"mode": "raise"}, max_attempts=1)
    assert carol.wait(task["task_id"])["status"] == "failed"
    page = open_console(browser, carol, f"#/tasks/{task['task_id']}")
    page.locator("#task-error").filter(has_text="IntentionalFailure").wait_for()
    page.get_by_role("button", name="Retry task").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    page.locator("#answer").filter(has_text=re.compile(r"Retried: task .* is now pending")).wait_for()
    again = carol.wait(task["task_id"], until=("failed",), timeout=60)
    assert again["attempts"] == 2
    browser.assert_no_errors(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_failed_tasks_are_retried_in_bulk_after_a_confirmation_that_counts_them(browser, carol, width):
    failed = [carol.submit("fail", {"mode": "raise"}, max_attempts=1)["task_id"] for _ in range(3)]
    other = carol.submit("fail", {"mode": "raise", "message": "another type"}, max_attempts=1, priority="low")
    carol.wait_all([*failed, other["task_id"]])
    page = open_console(browser, carol, "#/failed?priority=normal", width=width)
    failed_view = view(page, "failed")
    assert failed_view.get_by_label("Priority").input_value() == "normal"
    row(page, failed[0]).wait_for()
    assert row(page, other["task_id"]).count() == 0
    assert_fits(page)
    screenshot(page, f"failed-{width}")
    failed_view.get_by_role("button", name="Retry all of them…").click()
    dialog = page.get_by_role("dialog")
    dialog.filter(has_text="3 failed tasks in the normal lane match. Retry all of them?").wait_for()
    dialog.get_by_role("button", name="Retry 3").click()
    page.locator("#bulk-progress[data-status=done]").wait_for(timeout=60_000)
    page.locator("#answer").filter(has_text="Retried 3 of 3 failed tasks in the normal lane.").wait_for()
    screenshot(page, f"bulk-retry-{width}")
    assert [t["attempts"] for t in carol.wait_all(failed)] == [2, 2, 2]
    assert carol.get(other["task_id"])["attempts"] == 1  # another lane: left alone
    browser.assert_no_errors(page)


def test_a_bulk_retry_that_is_declined_changes_nothing(browser, carol):
    task = carol.submit("fail", {"mode": "raise"}, max_attempts=1)
    carol.wait(task["task_id"])
    page = open_console(browser, carol, "#/failed")
    view(page, "failed").get_by_role("button", name="Retry all of them…").click()
    page.get_by_role("dialog").filter(has_text="1 failed tasks match").wait_for()
    page.get_by_role("dialog").get_by_role("button", name="Keep as is").click()
    page.locator("#answer").filter(has_text="Nothing was retried.").wait_for()
    assert carol.get(task["task_id"])["attempts"] == 1


@pytest.mark.parametrize("width", WIDTHS)
def test_scheduled_tasks_show_when_they_run_and_are_cancelled_in_bulk(browser, carol, width):
    later = [carol.submit("echo", {"n": n}, delay_seconds=3600 + n)["task_id"] for n in range(2)]
    assert carol.get(later[0])["status"] == "scheduled"
    page = open_console(browser, carol, "#/scheduled", width=width)
    row(page, later[0]).wait_for()
    runs_at = row(page, later[0]).locator("td").nth(3).inner_text()
    assert re.search(r"\d", runs_at), runs_at
    assert_fits(page)
    screenshot(page, f"scheduled-{width}")
    view(page, "scheduled").get_by_role("button", name="Cancel all of them…").click()
    page.get_by_role("dialog").filter(has_text="2 scheduled tasks match").wait_for()
    page.get_by_role("dialog").get_by_role("button", name="Cancel 2").click()
    page.locator("#answer").filter(has_text="Cancelled 2 of 2 scheduled tasks.").wait_for(timeout=60_000)
    assert [carol.get(t)["status"] for t in later] == ["cancelled", "cancelled"]
    browser.assert_no_errors(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_schedules_show_their_next_fires_in_their_zone_and_are_paused_resumed_and_deleted(browser, carol, width):
    name = f"report-{width}"
    created = carol.request(
        "POST",
        "/schedules",
        json={"name": name, "cron": "0 9 ? * MON-FRI *", "timezone": "Europe/Paris", "task": {"task_type": "echo"}},
    )
    assert created.status_code == 201, created.text
    page = open_console(browser, carol, "#/schedules", width=width)
    line = page.locator(f"#schedules tr[data-schedule='{name}']")
    line.wait_for()
    fires = line.locator("td.fires").inner_text()
    # 09:00 in Paris is 08:00 UTC in winter (07:00 in summer): both shown.
    assert re.search(r"09:00 Europe/Paris \(0[78]:00 UTC\)", fires), fires
    line.locator("summary").click()
    line.locator("details div").nth(4).wait_for()  # the next five, read when asked for
    assert_fits(page)
    screenshot(page, f"schedules-{width}")
    line.get_by_role("button", name=f"pause {name}").click()
    page.locator("#answer").filter(has_text=f"Schedule {name} paused").wait_for()
    line.get_by_role("button", name=f"resume {name}").wait_for()
    assert carol.request("GET", f"/schedules/{name}").json()["paused"] is True
    line.get_by_role("button", name=f"resume {name}").click()
    line.get_by_role("button", name=f"pause {name}").wait_for()
    line.get_by_role("button", name=f"delete {name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.locator("#answer").filter(has_text=f"Schedule {name} deleted.").wait_for()
    line.wait_for(state="detached")
    assert carol.request("GET", f"/schedules/{name}").status_code == 404
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


def test_screenshots_of_the_overview_and_a_task(browser, alice):
    """docs/console-overview-*.png and docs/console-task.png with tasks in every state (only when asked).
    The stack's own key: its tasks of the whole run fill the chart's hour."""
    carol = alice
    if os.environ.get("TASKLANE_UPDATE_SCREENSHOT") != "1":
        pytest.skip("set TASKLANE_UPDATE_SCREENSHOT=1 to write the screenshots")
    for n in range(6):
        carol.submit("compute", {"n": 10_000 * (n + 1)}, priority=("high", "normal", "low")[n % 3])
    failed = carol.submit("fail", {"mode": "raise", "message": "upstream timed out"}, max_attempts=1)
    carol.submit("send_email", {"to": "ops@example.com", "subject": "hi", "body": "report"}, priority="low")
    carol.submit("echo", {"later": True}, delay_seconds=600)
    retrying = carol.submit("fail", {"mode": "raise", "message": "connection reset"}, max_attempts=3)
    running = carol.submit("sleep", {"seconds": 20})
    carol.wait(failed["task_id"])
    carol.wait(running["task_id"], until=("processing",))
    for width in WIDTHS:
        page = open_console(browser, carol, width=width)
        page.wait_for_timeout(6_000)  # a refresh with the last progress
        page.screenshot(path=str(DOCS / f"console-overview-{width}.png"), full_page=True)
    page = open_console(browser, carol, f"#/tasks/{retrying['task_id']}")
    page.wait_for_timeout(3_000)
    page.screenshot(path=str(DOCS / "console-task.png"), full_page=True)


def test_a_schedule_is_edited_from_the_console_and_a_bad_field_is_named_in_the_form(browser, carol):
    name = "report-edit"
    body = {"name": name, "rate": "5 minutes", "task": {"task_type": "echo", "payload": {"x": 1}}}
    assert carol.request("POST", "/schedules", json=body).status_code == 201
    page = open_console(browser, carol, "#/schedules")
    line = page.locator(f"#schedules tr[data-schedule='{name}']")
    line.get_by_role("button", name=f"edit {name}").click()
    dialog = page.get_by_role("dialog")
    assert dialog.get_by_label("When").input_value() == "rate(5 minutes)"
    dialog.get_by_label("Time zone").fill("Europe")
    dialog.get_by_role("button", name="Save").click()
    page.locator("#schedule-edit-problem").filter(has_text="timezone").wait_for()  # named, and not saved
    assert carol.request("GET", f"/schedules/{name}").json()["timezone"] == "UTC"
    dialog.get_by_label("Time zone").fill("Europe/Paris")
    dialog.get_by_label("When").fill("rate(1 hour)")
    dialog.get_by_label("Task payload").fill('{"x": 2}')
    dialog.get_by_role("button", name="Save").click()
    page.locator("#answer").filter(has_text=f"Schedule {name} edited").wait_for()
    line.locator("td", has_text="rate(1 hour)").wait_for()
    stored = carol.request("GET", f"/schedules/{name}").json()
    assert (stored["rate"], stored["timezone"], stored["task"]["payload"]) == ("1 hour", "Europe/Paris", {"x": 2})
    assert carol.request("DELETE", f"/schedules/{name}").status_code == 204
    # the refused save's 422 is the only failed request the browser logs; no script error
    assert browser.errors(page) == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Content)"
    ]
