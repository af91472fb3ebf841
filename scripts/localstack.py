"""The local stack: the ministack emulator on 127.0.0.1:4566 with tasklane deployed on it.

    python scripts/localstack.py start|deploy|info|stop|status

`make up` runs start + deploy + info; `make down` runs stop. The e2e tests use the same functions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local"
PID_FILE = STATE / "ministack.pid"
LOG_FILE = STATE / "ministack.log"
HOST, PORT = "127.0.0.1", 4566
ENDPOINT = f"http://{HOST}:{PORT}"
STACK = "tasklane"
REGION = "us-east-1"
ARTIFACTS_BUCKET = "tasklane-local-artifacts"
# Any well-formed credential is accepted by the emulator (it verifies signatures only with AUTH=true).
AWS_ENV = {
    "AWS_ENDPOINT_URL": ENDPOINT,
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "SAM_CLI_TELEMETRY": "0",
}


def healthy(timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/_ministack/health", timeout=timeout) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def start() -> bool:
    """Start the emulator in the background unless one answers; True when this call started it."""
    if healthy():
        return False
    STATE.mkdir(exist_ok=True)
    env = {**os.environ, "BIND_HOST": HOST, "GATEWAY_PORT": str(PORT), "LOG_LEVEL": "INFO"}
    with LOG_FILE.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603
            [str(ROOT / ".venv-ministack/bin/ministack")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=STATE,
            start_new_session=True,
        )
    PID_FILE.write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while not healthy():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"ministack did not start; see {LOG_FILE}")
        time.sleep(0.2)
    return True


def stop() -> None:
    """Stop the emulator started by `start` (its state lives in memory and goes with it)."""
    if not PID_FILE.exists():
        return
    pid = int(PID_FILE.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    PID_FILE.unlink(missing_ok=True)


def _aws():
    os.environ.update(AWS_ENV)
    import boto3

    return boto3.Session(region_name=REGION)


def deploy(quiet: bool = False) -> None:
    """sam build + sam deploy --config-env local: the very template that deploys to AWS."""
    session = _aws()
    s3 = session.client("s3")
    if ARTIFACTS_BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    sam = str(ROOT / ".venv/bin/sam")
    env = {**os.environ, **AWS_ENV}
    output = subprocess.DEVNULL if quiet else None
    for step in ("build", "deploy"):
        subprocess.run([sam, step, "--config-env", "local"], cwd=ROOT, env=env, check=True, stdout=output)  # noqa: S603
    _coerce_scaling_config(session)


def _coerce_scaling_config(session) -> None:
    """Work around ministack keeping MaximumConcurrency as the string CloudFormation resolves a
    Number parameter to (its SQS poller then fails comparing it): set the same value as an integer
    through the Lambda API. A real account coerces it itself."""
    client = session.client("lambda")
    for mapping in client.list_event_source_mappings()["EventSourceMappings"]:
        limit = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
        if limit is not None:
            client.update_event_source_mapping(UUID=mapping["UUID"], ScalingConfig={"MaximumConcurrency": int(limit)})


@dataclass(frozen=True)
class Outputs:
    api_url: str
    api_key: str | None
    second_api_key: str | None
    raw: dict[str, str]


def outputs() -> Outputs:
    """The stack's outputs, with the API URL in the form the emulator serves."""
    session = _aws()
    stack = session.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    raw = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    # The path form works with every HTTP client (*.localhost host names do not resolve everywhere).
    api_url = f"{ENDPOINT}/_aws/execute-api/{raw['ApiId']}/v1"
    key = None
    if raw.get("ApiKeyId"):
        key = session.client("apigateway").get_api_key(apiKey=raw["ApiKeyId"], includeValue=True)["value"]
    return Outputs(api_url, key, None, raw)


def info() -> None:
    out = outputs()
    if out.api_key:
        auth, who = f'-H "x-api-key: {out.api_key}"', f"API key {out.api_key}"
    else:
        auth, who = "--aws-sigv4 aws:amz:us-east-1:execute-api --user test:test", "SigV4, any credentials"
    submit = (
        f"curl -s -X POST {out.api_url}/tasks {auth} -H 'content-type: application/json' "
        """-d '{"task_type": "compute", "payload": {"n": 1000000}}'"""
    )
    task_id = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"task_id\"])'"
    print(f"""
tasklane runs on the local emulator (ministack at {ENDPOINT}); its log: {LOG_FILE}

  API   {out.api_url}
  auth  {out.raw.get("AuthMode")}: {who}

Submit a task, then read it:

  ID=$({submit} | {task_id})
  curl -s {out.api_url}/tasks/$ID {auth}
""")


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    if command == "start":
        print("ministack started" if start() else "ministack already running")
    elif command == "stop":
        stop()
        print("ministack stopped")
    elif command == "deploy":
        deploy()
    elif command == "info":
        info()
    elif command == "status":
        print("running" if healthy() else "stopped")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
