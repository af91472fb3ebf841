"""An application's own stack beside tasklane (examples/wordcount): deployed on the local stack with
`sam build` + `sam deploy`, it imports tasklane's exports; its function is registered as a task type
and a task runs through it, with nothing of tasklane forked."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from scripts import localstack

pytestmark = pytest.mark.e2e

EXAMPLE = localstack.ROOT / "examples" / "wordcount"
SCHEMA = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string"}, "top": {"type": "integer", "minimum": 1}},
}


@pytest.fixture(scope="module")
def wordcount_arn(stack) -> str:
    """The example stack, deployed as the README says; its function's ARN."""
    name = f"wordcount-{uuid.uuid4().hex[:6]}"
    sam = str(localstack.ROOT / ".venv/bin/sam")
    env = {**os.environ, **localstack.DEFAULT.aws_env, "SAM_CLI_TELEMETRY": "0"}
    build_dir = localstack.ROOT / ".aws-sam" / "example-wordcount"
    subprocess.run(
        [sam, "build", "-t", str(EXAMPLE / "template.yaml"), "-b", str(build_dir)],
        cwd=localstack.ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [sam, "deploy", "-t", str(build_dir / "template.yaml"), "--stack-name", name,
         "--s3-bucket", localstack.ARTIFACTS_BUCKET, "--region", localstack.REGION,
         "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset", "--no-progressbar",
         "--parameter-overrides", f"TasklaneStackName={localstack.STACK}"],
        cwd=localstack.ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    cloudformation = stack.session.client("cloudformation")
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    yield outputs["WordCountFunctionArn"]
    cloudformation.delete_stack(StackName=name)


def test_the_example_stack_imports_tasklane_api_url(stack, wordcount_arn):
    function = stack.session.client("lambda").get_function(FunctionName=wordcount_arn)
    variables = function["Configuration"]["Environment"]["Variables"]
    assert variables["TASKLANE_API_URL"] == stack.outputs.raw["ApiUrl"]


def test_a_task_runs_in_the_example_stack_function(alice, bob, wordcount_arn):
    name = f"wordcount-{uuid.uuid4().hex[:6]}"
    put = alice.request(
        "PUT", f"/task-types/{name}",
        json={"target": {"lambda": wordcount_arn}, "mode": "sync", "payload_schema": SCHEMA, "max_attempts": 2},
    )  # fmt: skip
    assert put.status_code == 201, put.text
    assert put.json()["kind"] == "lambda"

    task = alice.submit(name, {"text": "The cat and the hat. The end!", "top": 1})
    done = alice.wait(task["task_id"], timeout=90)
    assert done["status"] == "completed", done
    assert done["result"]["words"] == 7
    assert done["result"]["top"] == [["the", 3]]
    assert done["result"]["run"] == f"{task['task_id']}#1"

    refused = alice.request("POST", "/tasks", json={"task_type": name, "payload": {"top": 2}})
    assert refused.status_code == 422, refused.text
    assert "payload.text" in refused.text
    # The type is alice's: unknown to bob.
    assert bob.request("POST", "/tasks", json={"task_type": name, "payload": {"text": "x"}}).status_code == 422
    assert alice.request("DELETE", f"/task-types/{name}").status_code in (200, 204)
