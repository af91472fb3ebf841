"""Where the API is and how to sign for it: flags, then environment, then stack outputs, then the
local stack started by `make up`, in that order."""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from tasklane_client.auth import ApiKeyAuth, Auth, IamAuth
from tasklane_client.errors import EndpointError

# The port `make up` uses; a second checkout's local stack may run on another (TASKLANE_EMULATOR_PORT).
LOCAL_ENDPOINT = f"http://127.0.0.1:{os.environ.get('TASKLANE_EMULATOR_PORT', '4566')}"
LOCAL_STACK = "tasklane"
_LOCAL_AWS = {
    "endpoint_url": LOCAL_ENDPOINT,
    "aws_access_key_id": "test",
    "aws_secret_access_key": "test",
    "region_name": "us-east-1",
}


@dataclass
class Target:
    endpoint: str
    auth: Auth | None
    source: str
    outputs: dict[str, str] = field(default_factory=dict)
    aws: dict[str, Any] = field(default_factory=dict)  # boto3 client arguments for the stack's account

    def client(self, name: str) -> Any:
        import boto3

        return boto3.client(name, **self.aws)  # type: ignore[call-overload]


CHECK_STACK = "(check --stack-name, --region and --profile)"


def _stack_outputs(stack_name: str, aws: dict[str, Any]) -> dict[str, str]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = boto3.client("cloudformation", **aws).describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:  # AWS's own message, without botocore's "An error occurred (...) when calling"
        said = exc.response.get("Error", {}).get("Message") or str(exc)
        raise EndpointError(f"cannot read the outputs of stack {stack_name!r}: {said} {CHECK_STACK}") from None
    except BotoCoreError as exc:
        raise EndpointError(f"cannot read the outputs of stack {stack_name!r}: {exc} {CHECK_STACK}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def _api_key_value(outputs: dict[str, str], aws: dict[str, Any]) -> str | None:
    if not outputs.get("ApiKeyId"):
        return None
    import boto3

    return boto3.client("apigateway", **aws).get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)["value"]


def _local_running() -> bool:
    try:
        with urllib.request.urlopen(f"{LOCAL_ENDPOINT}/_ministack/health", timeout=1) as answer:  # noqa: S310
            return answer.status == 200
    except OSError:
        return False


def resolve(
    endpoint: str | None = None,
    api_key: str | None = None,
    stack_name: str | None = None,
    region: str | None = None,
    profile: str | None = None,
) -> Target:
    env = os.environ
    endpoint = endpoint or env.get("TASKLANE_ENDPOINT")
    api_key = api_key or env.get("TASKLANE_API_KEY")
    stack_name = stack_name or env.get("TASKLANE_STACK_NAME")
    aws: dict[str, Any] = {k: v for k, v in (("region_name", region),) if v}
    if profile:
        import boto3

        session = boto3.Session(profile_name=profile, region_name=region)
        credentials = session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            aws.update(
                aws_access_key_id=frozen.access_key,
                aws_secret_access_key=frozen.secret_key,
                aws_session_token=frozen.token,
            )
    if endpoint:
        outputs = _stack_outputs(stack_name, aws) if stack_name else {}
        auth: Auth = ApiKeyAuth(api_key) if api_key else IamAuth(region=region, profile=profile)
        return Target(endpoint, auth, "flags/environment", outputs, aws)
    if stack_name:
        outputs = _stack_outputs(stack_name, aws)
        key = api_key or _api_key_value(outputs, aws)
        auth = ApiKeyAuth(key) if key else IamAuth(region=region, profile=profile)
        return Target(outputs["ApiUrl"], auth, f"stack {stack_name}", outputs, aws)
    if _local_running():
        outputs = _stack_outputs(LOCAL_STACK, _LOCAL_AWS)
        key = api_key or _api_key_value(outputs, _LOCAL_AWS)
        url = f"{LOCAL_ENDPOINT}/_aws/execute-api/{outputs['ApiId']}/v1"
        return Target(url, ApiKeyAuth(key) if key else None, "local stack (make up)", outputs, dict(_LOCAL_AWS))
    raise EndpointError(
        "no tasklane endpoint: pass --endpoint URL (with --api-key in api_key mode), or --stack-name NAME "
        "to read it from the stack's outputs, or set TASKLANE_ENDPOINT; or start the local stack with `make up`"
    )
