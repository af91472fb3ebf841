"""The bulk table and queue: set on the functions that start, read and run bulk actions only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from tasklane.records import record


@record
class BulkSettings:
    table_name: str
    queue_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> BulkSettings:
        return cls(table_name=env["BULK_TABLE_NAME"], queue_url=env["BULK_QUEUE_URL"])


# Every variable BulkSettings.from_env requires; the template sets each on the submit, status and bulk functions.
BULK_REQUIRED_ENV = ("BULK_TABLE_NAME", "BULK_QUEUE_URL")


@cache
def bulk_settings() -> BulkSettings:
    return BulkSettings.from_env()
