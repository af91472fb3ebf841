"""The local stack: the ministack emulator on 127.0.0.1:4566 (or TASKLANE_EMULATOR_PORT) with tasklane deployed on it.

    python scripts/localstack.py start|deploy|info|stop|status

`make up` runs start + deploy + info; `make down` runs stop. The e2e tests use the same functions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STACK = "tasklane"
REGION = "us-east-1"
ARTIFACTS_BUCKET = "tasklane-local-artifacts"
# A second checkout can run its own local stack beside the first one on another port.
PORT = int(os.environ.get("TASKLANE_EMULATOR_PORT", "4566"))
# The local environment's parameters (samconfig.toml [local]); an emulator may override some of them.
LOCAL_PARAMETERS = tomllib.loads((ROOT / "samconfig.toml").read_text())["local"]["global"]["parameters"][
    "parameter_overrides"
]


# The emulator's log is appended to by every start; past this size a start moves it to <name>.log.1
# (replacing the one before), so that at most twice this stays on disk.
LOG_ROTATE_BYTES = 10 * 1024 * 1024


def rotate_log(log_file: Path, limit: int = LOG_ROTATE_BYTES) -> None:
    """Move a log past `limit` bytes to <log>.1, dropping the previous one."""
    if log_file.exists() and log_file.stat().st_size > limit:
        log_file.replace(log_file.with_name(log_file.name + ".1"))


@dataclass(frozen=True)
class Outputs:
    api_url: str
    api_key: str | None
    raw: dict[str, str]


class Emulator:
    """One ministack server: its port, whether it verifies signatures (AUTH=true), its state files."""

    def __init__(self, port: int = PORT, *, auth: bool = False, name: str = "ministack") -> None:
        self.port, self.auth, self.name = port, auth, name
        self.endpoint = f"http://{HOST}:{port}"
        self.state = ROOT / ".local"
        self.pid_file = self.state / f"{name}.pid"
        self.log_file = self.state / f"{name}.log"
        # The emulator unpacks each function worker's code into a directory of its own under TMPDIR and
        # leaves it there when it stops (≈ 70 MB a worker); stop() removes this one directory instead.
        self.workers = self.state / f"{name}-workers"

    @property
    def aws_env(self) -> dict[str, str]:
        # `test` is the emulator's root key; without AUTH any well-formed credential is accepted.
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "SAM_CLI_TELEMETRY": "0",
        }

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_ministack/health", timeout=timeout) as answer:  # noqa: S310
                return answer.status == 200
        except OSError:
            return False

    def start(self) -> bool:
        """Start the emulator in the background unless one answers; True when this call started it."""
        if self.healthy():
            return False
        self.state.mkdir(exist_ok=True)
        self._discard_workers()  # left by an emulator that was killed
        self.workers.mkdir()
        env = {**os.environ, "BIND_HOST": HOST, "GATEWAY_PORT": str(self.port), "LOG_LEVEL": "INFO"}
        env["TMPDIR"] = str(self.workers)
        env["AUTH"] = "true" if self.auth else "false"
        rotate_log(self.log_file)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603
                [str(ROOT / ".venv-ministack/bin/ministack")],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.state,
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + 60
        while not self.healthy():
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"ministack did not start; see {self.log_file}")
            time.sleep(0.2)
        return True

    def stop(self) -> None:
        """Stop the emulator started by `start` (its state lives in memory and goes with it)."""
        if not self.pid_file.exists():
            return
        pid = int(self.pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pid_file.unlink(missing_ok=True)
        self._discard_workers()

    def _discard_workers(self) -> None:
        """Move the workers' directory aside and remove it in a process of its own: tens of thousands
        of unpacked files take from seconds to minutes to delete on a busy disk, and nothing waits
        for them (a stop at the end of `make test` returns at once)."""
        if not self.workers.exists():
            return
        discarded = self.state / f".discarded-{self.name}-{time.time_ns()}"
        self.workers.rename(discarded)
        subprocess.Popen(  # noqa: S603
            ["rm", "-rf", str(discarded)],  # noqa: S607
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def session(self):
        import boto3

        env = self.aws_env
        return boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )

    def client(self, name: str):
        return self.session().client(name, endpoint_url=self.endpoint)

    def deploy(self, quiet: bool = False, overrides: str = "") -> None:
        """sam build + sam deploy --config-env local: the very template that deploys to AWS."""
        s3 = self.client("s3")
        if ARTIFACTS_BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
        sam = str(ROOT / ".venv/bin/sam")
        env = {**os.environ, **self.aws_env}
        output = subprocess.DEVNULL if quiet else None
        subprocess.run([sam, "build", "--config-env", "local"], cwd=ROOT, env=env, check=True, stdout=output)  # noqa: S603
        # An async envelope's completion routes: this emulator's URL (its port differs per checkout).
        overrides = f"CompletionApiBase={self.endpoint}/_aws/execute-api {overrides}".strip()
        deploy = [sam, "deploy", "--config-env", "local", "--parameter-overrides", f"{LOCAL_PARAMETERS} {overrides}"]
        subprocess.run(deploy, cwd=ROOT, env=env, check=True, stdout=output)  # noqa: S603
        self._coerce_scaling_config()
        self._republish_aliases()
        self._put_gateway_responses()

    def _republish_aliases(self) -> None:
        """Work around ministack publishing the version a stack update asks for from the function's
        configuration before that update (so `live` would keep the old environment, e.g. an
        OwnerConcurrencyCap just changed): publish a version of each function as it now is and move
        `live` to it, as CloudFormation does on AWS."""
        client = self.client("lambda")
        for function in client.list_functions()["Functions"]:
            name = function["FunctionName"]
            if not name.startswith(f"{STACK}-"):
                continue
            aliases = {a["Name"] for a in client.list_aliases(FunctionName=name)["Aliases"]}
            if "live" in aliases:
                version = client.publish_version(FunctionName=name)["Version"]
                client.update_alias(FunctionName=name, Name="live", FunctionVersion=version)

    def _put_gateway_responses(self) -> None:
        """Work around ministack ignoring `x-amazon-apigateway-gateway-responses` in the API's OpenAPI body
        (it answers API Gateway's defaults, `{"message": "Forbidden"}`): put the template's gateway responses
        on the API through the API Gateway API and deploy the stage again, as importing the body does on AWS.
        Its templates replace only $context.error.*, requestId, resourcePath, stage and status, so the
        request's method and path (which AWS fills in) read "for this method and path" here."""
        cloudformation, apigateway = self.client("cloudformation"), self.client("apigateway")
        stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
        processed = cloudformation.get_template(StackName=STACK, TemplateStage="Processed")["TemplateBody"]
        template = json.loads(processed) if isinstance(processed, str) else processed
        api_ids = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        responses = template["Resources"]["TasklaneApi"]["Properties"]["Body"].get(GATEWAY_RESPONSES, {})
        for kind, response in _resolve_conditions(responses, template, parameters).items():
            templates = {
                media: body.replace("$context.httpMethod $context.path", "for this method and path")
                for media, body in response.get("responseTemplates", {}).items()
            }
            arguments = {"restApiId": api_ids["ApiId"], "responseType": kind, "responseTemplates": templates}
            if "statusCode" in response:
                arguments["statusCode"] = str(response["statusCode"])
            apigateway.put_gateway_response(**arguments)
        if responses:
            apigateway.create_deployment(restApiId=api_ids["ApiId"], stageName="v1")

    def _coerce_scaling_config(self) -> None:
        """Work around ministack keeping MaximumConcurrency as the string CloudFormation resolves a
        Number parameter to (its SQS poller then fails comparing it): set the same value as an integer
        through the Lambda API. A real account coerces it itself."""
        client = self.client("lambda")
        for mapping in client.list_event_source_mappings()["EventSourceMappings"]:
            limit = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
            if limit is not None:
                client.update_event_source_mapping(
                    UUID=mapping["UUID"], ScalingConfig={"MaximumConcurrency": int(limit)}
                )

    def outputs(self) -> Outputs:
        """The stack's outputs, with the API URL in the form the emulator serves."""
        stack = self.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
        raw = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        # The path form works with every HTTP client (*.localhost host names do not resolve everywhere).
        api_url = f"{self.endpoint}/_aws/execute-api/{raw['ApiId']}/v1"
        key = None
        if raw.get("ApiKeyId"):
            key = self.client("apigateway").get_api_key(apiKey=raw["ApiKeyId"], includeValue=True)["value"]
        return Outputs(api_url, key, raw)


GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses"


def _resolve_conditions(node: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """`node` with each Fn::If taken by its condition (Fn::Equals of a parameter, Fn::Not), as deployed."""

    def holds(condition: Any) -> bool:
        if isinstance(condition, dict) and "Condition" in condition:
            return holds(template["Conditions"][condition["Condition"]])
        if isinstance(condition, dict) and "Fn::Not" in condition:
            return not holds(condition["Fn::Not"][0])
        left, right = (parameters.get(v["Ref"], "") if isinstance(v, dict) else v for v in condition["Fn::Equals"])
        return str(left) == str(right)

    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        name, when_true, when_false = node["Fn::If"]
        return _resolve_conditions(
            when_true if holds(template["Conditions"][name]) else when_false, template, parameters
        )
    if isinstance(node, dict):
        return {k: _resolve_conditions(v, template, parameters) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_conditions(v, template, parameters) for v in node]
    return node


DEFAULT = Emulator()
ENDPOINT, LOG_FILE = DEFAULT.endpoint, DEFAULT.log_file
healthy, start, stop, deploy, outputs = DEFAULT.healthy, DEFAULT.start, DEFAULT.stop, DEFAULT.deploy, DEFAULT.outputs


def _aws():
    os.environ.update(DEFAULT.aws_env)
    return DEFAULT.session()


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
