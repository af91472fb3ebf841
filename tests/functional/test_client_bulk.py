"""Bulk actions through the Python client and `tasklane bulk`, on the handlers on moto."""

from __future__ import annotations

import io
import json
import urllib.parse

import pytest
from tasklane_client import Client, InvalidRequest, NotFound
from tasklane_client.cli import build_parser, run
from tasklane_client.client import Answer
from tasklane_client.discovery import Target

from tests.events import api_event
from tests.functional.test_bulk import fail_now, get, progress, run_bulk, submit
from tests.functional.test_client import ENDPOINT, InProcess


class WithBulk(InProcess):
    """The in-process API with the bulk routes; a bulk read first lets the bulk function run, as
    its queue's event source mapping would."""

    def __call__(self, method, url, headers, body, timeout):
        path = urllib.parse.urlsplit(url).path.removeprefix("/v1")
        if path == "/tasks/bulk" and method == "POST":
            self.requests.append((method, url, headers))
            e = api_event("start_bulk", owner=self.owner, raw_body=body.decode())
            return self._answer(self.tasklane.call(e))
        if path.startswith("/tasks/bulk/") and method == "GET":
            self.requests.append((method, url, headers))
            run_bulk(self.tasklane)
            return self._answer(progress(self.tasklane, urllib.parse.unquote(path.rsplit("/", 1)[1]), self.owner))
        return super().__call__(method, url, headers, body, timeout)

    @staticmethod
    def _answer(answer):
        return Answer(answer.status, answer.headers, json.dumps(answer.body).encode())


@pytest.fixture
def client(tasklane):
    return Client(ENDPOINT, None, transport=WithBulk(tasklane))


def cli(tasklane, *argv):
    target = Target(ENDPOINT, None, "test")
    target.transport = WithBulk(tasklane)  # type: ignore[attr-defined]
    out, err = io.StringIO(), io.StringIO()
    code = run(build_parser().parse_args(list(argv)), out, err, target_for=lambda **_: target)
    return code, out.getvalue(), err.getvalue()


def test_the_client_starts_a_bulk_retry_and_waits_for_it(client, tasklane):
    ids = fail_now(tasklane, 2)
    started = client.start_bulk("retry", {"status": "failed"})
    assert started["status"] == "running"
    seen = []
    done = client.wait_bulk(started["bulk_id"], timeout=5, poll_seconds=0, on_update=seen.append)
    assert (done["status"], done["matched"], done["changed"], done["skipped"]) == ("done", 2, 2, 0)
    assert seen[-1] == done
    assert [get(tasklane, t)["status"] for t in ids] == ["pending", "pending"]


def test_the_client_names_the_bad_field_and_an_unknown_bulk(client):
    with pytest.raises(InvalidRequest) as bad:
        client.start_bulk("retry", {"status": "pending"})
    assert bad.value.details[0]["field"] == "filter.status"
    with pytest.raises(NotFound):
        client.get_bulk("0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d")


def test_cli_bulk_dry_run_counts_and_changes_nothing(tasklane):
    ids = [submit(tasklane, delay_seconds=600) for _ in range(3)]
    code, out, _ = cli(tasklane, "bulk", "cancel", "--dry-run")
    assert code == 0
    assert out.strip() == "3 pending or scheduled tasks match; nothing changed (dry run)"
    assert all(get(tasklane, t)["status"] == "pending" for t in ids)


def test_cli_bulk_without_yes_and_no_terminal_says_how_many_and_changes_nothing(tasklane):
    ids = [submit(tasklane, delay_seconds=600) for _ in range(2)]
    code, _, err = cli(tasklane, "bulk", "cancel", "--status", "pending")
    assert code == 2
    assert "2 tasks match; pass --yes to cancel them" in err
    assert all(get(tasklane, t)["status"] == "pending" for t in ids)


def test_cli_bulk_yes_cancels_and_reports_the_counts(tasklane):
    ids = [submit(tasklane, delay_seconds=600) for _ in range(2)]
    submit(tasklane, delay_seconds=600, owner="arn:aws:iam::123456789012:user/bob")
    code, out, _ = cli(tasklane, "bulk", "cancel", "--yes", "--type", "echo")
    assert code == 0
    assert out.startswith("2 of 2 matching tasks cancelled (0 skipped")
    assert all(get(tasklane, t)["status"] == "cancelled" for t in ids)
    code, out, _ = cli(tasklane, "--json", "bulk", "cancel", "--yes")
    assert code == 0
    assert json.loads(out)["matched"] == 0


def test_cli_bulk_refuses_a_moment_without_a_zone(tasklane, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bulk", "retry", "--created-after", "2026-12-01T00:00:00", "--yes"])
    assert "has no zone" in capsys.readouterr().err
