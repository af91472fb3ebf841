"""Auth on an emulator that verifies SigV4 signatures and evaluates IAM policies (ministack AUTH=true),
with the stack in its default mode, AuthMode=iam: refusals happen at the gateway, before any Lambda."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from scripts.localstack import PORT, Emulator
from tests.e2e import run
from tests.e2e.browser import launch_browser

pytestmark = pytest.mark.e2e

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*"}],
}


@dataclass
class Principal:
    arn: str
    credentials: Credentials


@dataclass
class SignedStack:
    emulator: Emulator
    api_url: str

    def call(self, method: str, path: str, credentials: Credentials | None, body: Any = None) -> requests.Response:
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"content-type": "application/json"} if body is not None else {}
        url = self.api_url + path
        if credentials is not None:
            request = AWSRequest(method=method, url=url, data=data, headers=headers)
            SigV4Auth(credentials, "execute-api", "us-east-1").add_auth(request)
            headers = dict(request.headers)
        return requests.request(method, url, data=data or None, headers=headers, timeout=60)

    def invocations(self) -> int:
        """Lambda invocations so far of the two API functions (one log stream each)."""
        logs = self.emulator.client("logs")
        total = 0
        for group in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/tasklane-")["logGroups"]:
            if "SubmitFunction" in group["logGroupName"] or "StatusFunction" in group["logGroupName"]:
                total += len(logs.describe_log_streams(logGroupName=group["logGroupName"])["logStreams"])
        return total


@pytest.fixture(scope="module")
def signed() -> SignedStack:
    # Beside the plain emulator's port (TASKLANE_EMULATOR_PORT, default 4566): the next one, unless
    # TASKLANE_AUTH_EMULATOR_PORT names another (where checkouts side by side use neighbouring ports).
    # Started and deployed once for the run, after the plain stack's deploy or before it, never beside
    # it (one .aws-sam); stopped by the run's main process (tests/e2e/run.py).
    port = int(os.environ.get("TASKLANE_AUTH_EMULATOR_PORT", PORT + 1))
    emulator = Emulator(port, auth=True, name="ministack-auth")
    run.deployed(emulator, "AuthMode=iam", quiet=True, check=refuse_unless_it_verifies_signatures)
    return SignedStack(emulator, emulator.outputs().api_url)


def refuse_unless_it_verifies_signatures(emulator: Emulator) -> None:
    """An emulator already on the port must be one that checks signatures: deploying onto a plain one
    (another checkout's stack) would overwrite that stack and prove nothing here."""
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(f"{emulator.endpoint}/?Action=ListQueues", timeout=10)  # unsigned
    except urllib.error.HTTPError:
        return  # refused (or not understood): not an emulator that takes anything
    pytest.fail(f"the emulator on {emulator.endpoint} does not verify signatures: set TASKLANE_AUTH_EMULATOR_PORT")


def _user(emulator: Emulator, name: str, allowed: bool) -> Principal:
    iam = emulator.client("iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if allowed:
        iam.put_user_policy(UserName=name, PolicyName="invoke-tasklane", PolicyDocument=json.dumps(POLICY))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Principal(arn, Credentials(key["AccessKeyId"], key["SecretAccessKey"]))


@pytest.fixture(scope="module")
def users(signed: SignedStack) -> dict[str, Principal]:
    import uuid

    suffix = uuid.uuid4().hex[:6]
    return {
        "alice": _user(signed.emulator, f"alice-{suffix}", allowed=True),
        "bob": _user(signed.emulator, f"bob-{suffix}", allowed=True),
        "mallory": _user(signed.emulator, f"mallory-{suffix}", allowed=False),
    }


def test_a_signed_caller_with_invoke_rights_submits_and_reads_its_task(signed, users):
    before = signed.invocations()
    answer = signed.call("POST", "/tasks", users["alice"].credentials, {"task_type": "echo", "payload": {"x": 1}})
    assert answer.status_code == 202, answer.text
    task_id = answer.json()["task_id"]
    assert signed.call("GET", f"/tasks/{task_id}", users["alice"].credentials).status_code == 200
    assert signed.call("GET", f"/tasks/{task_id}", users["bob"].credentials).status_code == 404
    assert signed.invocations() > before  # the counter the refusals below rely on does count


@pytest.mark.parametrize("who", ["no credentials", "wrong secret", "no execute-api:Invoke"])
def test_refused_at_the_gateway_before_any_lambda_runs(signed, users, who):
    credentials = {
        "no credentials": None,
        "wrong secret": Credentials(users["alice"].credentials.access_key, "not-the-secret"),
        "no execute-api:Invoke": users["mallory"].credentials,
    }[who]
    before = signed.invocations()
    for method, path, body in (("POST", "/tasks", {"task_type": "echo"}), ("GET", "/tasks", None)):
        answer = signed.call(method, path, credentials, body)
        assert answer.status_code == 403, (who, answer.status_code, answer.text)
    assert signed.invocations() == before


def test_tasklane_console_signs_the_pages_calls_in_iam_mode(signed, users, monkeypatch):
    """The console through `tasklane console`'s proxy, on a stack whose gateway verifies SigV4: the
    page needs no key, its calls are signed with the caller's credentials, and GET /stats answers
    within the status function's read-only role (which this emulator evaluates)."""
    import threading

    from tasklane_client.auth import IamAuth
    from tasklane_client.console import ConsoleProxy

    alice = users["alice"].credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", alice.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", alice.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    page_answer = requests.get(signed.api_url + "/console", timeout=60)
    assert page_answer.status_code == 200
    assert '<meta name="tasklane-auth" content="iam">' in page_answer.text
    task = signed.call("POST", "/tasks", alice, {"task_type": "echo", "payload": {"signed": True}}).json()
    proxy = ConsoleProxy(signed.api_url, IamAuth(region="us-east-1"), port=0)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        with launch_browser() as browser:
            page = browser.new_page()
            page.goto(proxy.url)
            page.locator("#lanes tbody tr[data-lane=high] td").nth(4).filter(has_text="10").wait_for()
            page.locator(f'#overview-view tbody tr[data-task-id="{task["task_id"]}"]').wait_for()
            browser.assert_no_errors(page)
    finally:
        proxy.shutdown()
        proxy.server_close()
