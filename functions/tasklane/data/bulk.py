"""Bulk jobs: their records (the bulk table) and the queue that carries a job from page to page."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.attributes import n_attr, s_attr
from tasklane.model.bulk import BulkAction, BulkCounts, BulkFilter, BulkJob, BulkPage, BulkState
from tasklane.model.errors import ServiceUnavailable


class BulkUnavailable(ServiceUnavailable):
    """The bulk table or queue did not answer (after the SDK's retries)."""


def _item(job: BulkJob, expires_at: int) -> dict[str, Any]:
    item = {
        "bulk_id": s_attr(job.bulk_id),
        "owner": s_attr(job.owner),
        "action": s_attr(job.action.value),
        "filter": s_attr(json.dumps(job.filter.public(), separators=(",", ":"))),
        "dry_run": {"BOOL": job.dry_run},
        "created_at": s_attr(job.created_at),
        "state": s_attr(job.state.value),
        "matched": n_attr(job.counts.matched),
        "changed": n_attr(job.counts.changed),
        "skipped": n_attr(job.counts.skipped),
        "page": n_attr(job.page),
        "expires_at": n_attr(expires_at),
    }
    if job.position is not None:
        item["position"] = s_attr(job.position)
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
        item = self._call("get_item", TableName=self._table, Key={"bulk_id": s_attr(bulk_id)}, ConsistentRead=True)
        return _job(item["Item"]) if "Item" in item else None

    def advance(self, job: BulkJob, counts: BulkCounts, position: str | None, finished_at: str | None) -> bool:
        """Record page `job.page` as applied: add its counts, move to the next page (or finish when
        `finished_at` is given). False when that page was recorded already (a redelivered message):
        the condition on the page number is what keeps a page from counting twice."""
        values = {
            ":page": n_attr(job.page),
            ":next": n_attr(job.page + 1),
            ":matched": n_attr(counts.matched),
            ":changed": n_attr(counts.changed),
            ":skipped": n_attr(counts.skipped),
            ":running": s_attr(BulkState.RUNNING.value),
        }
        names = {"#page": "page", "#state": "state", "#matched": "matched", "#changed": "changed"}
        names |= {"#skipped": "skipped", "#position": "position"}
        update = "SET #page = :next, #matched = #matched + :matched, #changed = #changed + :changed, "
        update += "#skipped = #skipped + :skipped"
        if position is not None:
            update += ", #position = :position"
            values[":position"] = s_attr(position)
        if finished_at is not None:
            update += ", #state = :done, finished_at = :finished"
            values[":done"], values[":finished"] = s_attr(BulkState.DONE.value), s_attr(finished_at)
        if position is None:
            update += " REMOVE #position"
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key={"bulk_id": s_attr(job.bulk_id)},
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
