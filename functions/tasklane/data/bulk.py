"""Bulk jobs: their records (the bulk table) and the queue that carries a job from page to page."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.model.bulk import BulkAction, BulkCounts, BulkFilter, BulkJob, BulkPage, BulkState
from tasklane.model.errors import ServiceUnavailable


class BulkUnavailable(ServiceUnavailable):
    """The bulk table or queue did not answer (after the SDK's retries)."""


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _item(job: BulkJob, expires_at: int) -> dict[str, Any]:
    item = {
        "bulk_id": _s(job.bulk_id),
        "owner": _s(job.owner),
        "action": _s(job.action.value),
        "filter": _s(json.dumps(job.filter.public(), separators=(",", ":"))),
        "dry_run": {"BOOL": job.dry_run},
        "created_at": _s(job.created_at),
        "state": _s(job.state.value),
        "matched": _n(job.counts.matched),
        "changed": _n(job.counts.changed),
        "skipped": _n(job.counts.skipped),
        "page": _n(job.page),
        "expires_at": _n(expires_at),
    }
    if job.position is not None:
        item["position"] = _s(job.position)
    return item


def _job(item: dict[str, Any]) -> BulkJob:
    return BulkJob(
        bulk_id=item["bulk_id"]["S"],
        owner=item["owner"]["S"],
        action=BulkAction(item["action"]["S"]),
        filter=BulkFilter.parse(json.loads(item["filter"]["S"])),
        dry_run=item["dry_run"]["BOOL"],
        created_at=item["created_at"]["S"],
        state=BulkState(item["state"]["S"]),
        counts=BulkCounts(int(item["matched"]["N"]), int(item["changed"]["N"]), int(item["skipped"]["N"])),
        page=int(item["page"]["N"]),
        position=item.get("position", {}).get("S"),
        finished_at=item.get("finished_at", {}).get("S"),
    )


class BulkJobs:
    """One record per bulk action, keyed by its id; it expires with tasks' retention."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def _call(self, action: str, **request: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self._db, action)(**request)
        except (ClientError, BotoCoreError) as exc:
            if action == "update_item" and _condition_failed(exc):
                raise
            raise BulkUnavailable(f"{action} failed: {exc}") from exc
        return response

    def add(self, job: BulkJob, expires_at: int) -> None:
        self._call(
            "put_item",
            TableName=self._table,
            Item=_item(job, expires_at),
            ConditionExpression="attribute_not_exists(bulk_id)",
        )

    def get(self, bulk_id: str) -> BulkJob | None:
        item = self._call("get_item", TableName=self._table, Key={"bulk_id": _s(bulk_id)}, ConsistentRead=True)
        return _job(item["Item"]) if "Item" in item else None

    def advance(self, job: BulkJob, counts: BulkCounts, position: str | None, finished_at: str | None) -> bool:
        """Record page `job.page` as applied: add its counts, move to the next page (or finish when
        `finished_at` is given). False when that page was recorded already (a redelivered message):
        the condition on the page number is what keeps a page from counting twice."""
        values = {
            ":page": _n(job.page),
            ":next": _n(job.page + 1),
            ":matched": _n(counts.matched),
            ":changed": _n(counts.changed),
            ":skipped": _n(counts.skipped),
            ":running": _s(BulkState.RUNNING.value),
        }
        names = {"#page": "page", "#state": "state", "#matched": "matched", "#changed": "changed"}
        names |= {"#skipped": "skipped", "#position": "position"}
        update = "SET #page = :next, #matched = #matched + :matched, #changed = #changed + :changed, "
        update += "#skipped = #skipped + :skipped"
        if position is not None:
            update += ", #position = :position"
            values[":position"] = _s(position)
        if finished_at is not None:
            update += ", #state = :done, finished_at = :finished"
            values[":done"], values[":finished"] = _s(BulkState.DONE.value), _s(finished_at)
        if position is None:
            update += " REMOVE #position"
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key={"bulk_id": _s(job.bulk_id)},
                UpdateExpression=update,
                ConditionExpression="#page = :page AND #state = :running",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True


def _condition_failed(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


class BulkQueue:
    """The queue of bulk pages: one message per page still to apply."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, page: BulkPage) -> None:
        try:
            self._sqs.send_message(QueueUrl=self._url, MessageBody=page.to_json())
        except (ClientError, BotoCoreError) as exc:
            raise BulkUnavailable(f"SendMessage failed: {exc}") from exc
