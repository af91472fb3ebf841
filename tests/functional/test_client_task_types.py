"""The client's task-type methods and `tasklane types list|get|put|delete`, against the handlers."""

from __future__ import annotations

import json

import pytest
from tasklane_client import Client, InvalidRequest, NotFound

from tests.functional.task_types_helpers import RECEIVER, RECEIVER_ADDRESS
from tests.functional.test_client import ENDPOINT, InProcess, cli

SCHEMA = {"type": "object", "properties": {"width": {"type": "integer"}}, "required": ["width"]}


@pytest.fixture
def names(resolver):
    resolver.names["targets.example.com"] = [RECEIVER_ADDRESS]


def test_the_client_registers_lists_reads_and_deletes_a_type(tasklane, names):
    client = Client(ENDPOINT, None, transport=InProcess(tasklane))
    saved = client.put_task_type("resize", {"target": {"url": RECEIVER}, "payload_schema": SCHEMA})
    assert (saved["name"], saved["kind"], saved["mode"]) == ("resize", "url", "sync")
    names_listed = [t["name"] for t in client.list_task_types()]
    assert names_listed[-1] == "resize"
    assert "echo" in names_listed
    assert client.get_task_type("resize")["payload_schema"] == SCHEMA
    with pytest.raises(InvalidRequest) as refused:
        client.submit("resize", {"width": "wide"})
    assert refused.value.details[0]["field"] == "payload.width"
    client.delete_task_type("resize")
    with pytest.raises(NotFound):
        client.get_task_type("resize")


def test_the_cli_puts_a_type_from_options_and_a_schema_file_then_lists_and_deletes_it(tasklane, names, tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    code, out, err = cli(
        tasklane, "types", "put", "resize", "--url", RECEIVER, "--schema", f"@{schema}",
        "--priority", "high", "--timeout", "30", "--rate-limit", "5/s",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "saved resize (url, sync)" in out
    code, out, _ = cli(tasklane, "types", "list")
    row = next(line for line in out.splitlines() if line.startswith("resize "))
    assert RECEIVER in row
    assert "high" in row
    assert "5/s" in row
    code, out, _ = cli(tasklane, "--json", "types", "get", "resize")
    assert json.loads(out)["payload_schema"] == SCHEMA
    assert cli(tasklane, "types", "delete", "resize")[0] == 0
    with pytest.raises(NotFound):
        cli(tasklane, "types", "get", "resize")


def test_the_cli_refuses_a_schema_that_is_not_json(tasklane, names):
    from tasklane_client.cli import UsageError

    with pytest.raises(UsageError, match="--schema is not JSON"):
        cli(tasklane, "types", "put", "x", "--url", RECEIVER, "--schema", "{not json")
