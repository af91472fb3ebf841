"""How requests prove who sends them: SigV4 (the AWS credential chain) or an API key."""

from __future__ import annotations

import re
from typing import Protocol

_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


class Auth(Protocol):
    def headers(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        """The headers to add to a request."""
        ...


class ApiKeyAuth:
    """`AuthMode=api_key`: the key goes in the x-api-key header."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def headers(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        return {"x-api-key": self.api_key}


class IamAuth:
    """`AuthMode=iam`: SigV4 with botocore's signer and the standard credential chain
    (environment, shared config and profiles, SSO, container and instance roles)."""

    def __init__(self, region: str | None = None, profile: str | None = None) -> None:
        import botocore.session

        self._session = botocore.session.Session(profile=profile)
        self._region = region

    def headers(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        from tasklane_client.errors import AuthError

        credentials = self._session.get_credentials()
        if credentials is None:
            raise AuthError(
                "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "or run `aws configure` / `aws sso login`"
            )
        match = _REGION_IN_HOST.search(url)
        region = (
            self._region or (match and match.group(1)) or self._session.get_config_variable("region") or "us-east-1"
        )
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")
        }
