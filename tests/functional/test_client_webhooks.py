"""The client's and the command's webhook parts: the secret, its rotation, and callbacks on submit."""

from __future__ import annotations

import json

import pytest
from tasklane_client import Client, InvalidRequest

from tests.events import BOB
from tests.functional.test_client import ENDPOINT, InProcess, cli


def test_the_client_reads_and_rotates_the_owner_s_secret(tasklane):
    alice = Client(ENDPOINT, None, transport=InProcess(tasklane))
    bob = Client(ENDPOINT, None, transport=InProcess(tasklane, owner=BOB))
    secret = alice.webhook_secret()
    assert secret.startswith("whsec_")
    assert alice.webhook_secret() == secret
    assert bob.webhook_secret() != secret
    rotated = alice.rotate_webhook_secret()
    assert rotated != secret
    assert alice.webhook_secret() == rotated


def test_the_client_submits_a_callback_and_a_refused_one_is_invalid_request(tasklane, resolver):
    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    client = Client(ENDPOINT, None, transport=InProcess(tasklane))
    task = client.submit("echo", {}, callback_url="https://hooks.example.com/t")
    assert task["callback"] == {"url": "https://hooks.example.com/t", "deliveries": []}
    with pytest.raises(InvalidRequest) as refused:
        client.submit("echo", {}, callback_url="https://10.0.0.1/t")
    assert [d["field"] for d in refused.value.details] == ["callback_url"]


def test_the_webhook_secret_command_prints_and_rotates(tasklane):
    code, out, _ = cli(tasklane, "webhook-secret")
    assert code == 0
    first = out.strip()
    assert first.startswith("whsec_")
    code, out, _ = cli(tasklane, "--json", "webhook-secret", "--rotate")
    assert code == 0
    assert json.loads(out)["secret"] not in ("", first)


def test_submit_takes_a_callback_url_and_get_shows_its_deliveries(tasklane, resolver):
    resolver.names["hooks.example.com"] = ["93.184.215.14"]
    code, out, _ = cli(tasklane, "submit", "echo", "--callback-url", "https://hooks.example.com/t")
    assert code == 0
    code, out, _ = cli(tasklane, "get", out.strip())
    assert "callback    https://hooks.example.com/t (no delivery yet)" in out
    with pytest.raises(InvalidRequest, match="not valid"):  # main() prints it and exits 1
        cli(tasklane, "submit", "echo", "--callback-url", "http://hooks.example.com/t")
