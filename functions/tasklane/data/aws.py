"""AWS clients, created once per container on first use (tests clear the caches)."""

from __future__ import annotations

import os
import random
import sys
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


@cache
def lambda_client() -> Any:
    """Lambda targets' invocations: no SDK retries (a failed call is an attempt, retried by the lane),
    and a read timeout as long as the longest synchronous target may run (ProcessorTimeout, 900 s)."""
    return boto3.client("lambda", config=Config(retries={"max_attempts": 0}, connect_timeout=3, read_timeout=900))


def reset() -> None:
    """Forget every cached client (for tests that swap the AWS backend)."""
    lambda_client.cache_clear()
    dynamodb.cache_clear()
    sqs.cache_clear()
    s3.cache_clear()
    cloudwatch.cache_clear()
    events.cache_clear()
    scheduler.cache_clear()


# --- SnapStart: what the copies restored from one snapshot must not share -------------------------
# Every function imports this module, so the hook is registered in every function.

# Modules whose cached objects hold a client: module -> the cached function to forget.
_HOLDING_CLIENTS = {
    "tasklane.data.services": "services",
    "tasklane.data.notifications": "notifications",
    "tasklane.data.idempotency": "_guarded",
}


def forget_container_state() -> None:
    """What must not be shared by the copies SnapStart restores from one snapshot, rebuilt: the AWS
    clients (and their connections and credentials) and every object holding one, made again on
    first use; `random`'s state (the retry jitter, botocore's backoff), seeded afresh from the OS.
    Ids and tokens come from uuid4 (os.urandom), which differs in every copy already."""
    reset()
    for name, cached in _HOLDING_CLIENTS.items():
        if module := sys.modules.get(name):
            getattr(module, cached).cache_clear()
    random.seed()


def _register_restore_hook() -> bool:
    """Run forget_container_state after every restore, where the Lambda runtime offers its SnapStart
    hooks (`snapshot_restore_py`; absent elsewhere, and then nothing is ever restored)."""
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_after_restore(forget_container_state)
    return True


RESTORE_HOOK = _register_restore_hook()
