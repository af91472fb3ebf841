"""AWS clients, created once per container on first use (tests clear the caches)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling (ProvisionedThroughputExceeded, ThrottlingException).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@cache
def dynamodb() -> Any:
    client = boto3.client("dynamodb", config=_CONFIG)
    # --- fault injection for `make soak` (tasklane/data/faults.py): only when TASKLANE_FAULTS is set,
    # which the template never does; the module is not even imported otherwise. ---
    if spec := os.environ.get("TASKLANE_FAULTS"):
        from tasklane.data import faults

        faults.install(client, spec)
    # --- end of fault injection ---
    return client


@cache
def sqs() -> Any:
    return boto3.client("sqs", config=_CONFIG)


@cache
def cloudwatch() -> Any:
    # Only GET /stats uses it (the throughput chart and the age of each lane's oldest message).
    return boto3.client("cloudwatch", config=_CONFIG)


@cache
def s3() -> Any:
    # SigV4 always: a SigV2 presigned URL is weaker, and the local emulator does not check its signature.
    return boto3.client("s3", config=_CONFIG.merge(Config(signature_version="s3v4")))


@cache
def events() -> Any:
    # Only the events function uses it (PutEvents on the stack's bus).
    return boto3.client("events", config=_CONFIG)


@cache
def scheduler() -> Any:
    # Only the schedules function uses it (EventBridge Scheduler: one schedule per recurring schedule).
    return boto3.client("scheduler", config=_CONFIG)


def reset() -> None:
    """Forget every cached client (for tests that swap the AWS backend)."""
    dynamodb.cache_clear()
    sqs.cache_clear()
    s3.cache_clear()
    cloudwatch.cache_clear()
    events.cache_clear()
    scheduler.cache_clear()
