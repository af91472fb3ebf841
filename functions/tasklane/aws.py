"""AWS clients, created once per container on first use (tests clear the caches)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling (ProvisionedThroughputExceeded, ThrottlingException).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@cache
def dynamodb() -> Any:
    return boto3.client("dynamodb", config=_CONFIG)


@cache
def sqs() -> Any:
    return boto3.client("sqs", config=_CONFIG)


def reset() -> None:
    """Forget every cached client (for tests that swap the AWS backend)."""
    dynamodb.cache_clear()
    sqs.cache_clear()
