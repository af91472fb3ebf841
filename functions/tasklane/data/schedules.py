"""Recurring schedules: their records (the schedules table, the source of truth for listing) and
their EventBridge Scheduler schedules (the clock that fires them)."""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.data.attributes import s_attr
from tasklane.data.owned_items import COUNT_ITEM, every_named_item
from tasklane.model.errors import (
    ScheduleChanged,
    ScheduleExists,
    ScheduleLimitReached,
    ScheduleNotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from tasklane.model.schedule import Schedule, scheduler_name

# The item that counts an owner's schedules; no schedule name can hold '#'.
_COUNT = COUNT_ITEM
# What Scheduler says of a refused schedule is shown without the ARNs and account ids it may quote.
_ARN_OR_ACCOUNT = re.compile(r"arn:[^\s\"',]+|\b\d{12}\b")


class SchedulesUnavailable(ServiceUnavailable):
    """The schedules table or EventBridge Scheduler did not answer (after the SDK's retries)."""

    public_message = "the schedules table or EventBridge Scheduler did not answer; try again shortly"


def _item(schedule: Schedule) -> dict[str, Any]:
    item = {
        "owner": s_attr(schedule.owner),
        "name": s_attr(schedule.name),
        "schedule_id": s_attr(schedule.schedule_id),
        "timezone": s_attr(schedule.timezone),
        "task": s_attr(json.dumps(schedule.task, separators=(",", ":"))),
        "paused": {"BOOL": schedule.paused},
        "created_at": s_attr(schedule.created_at),
        "updated_at": s_attr(schedule.updated_at),
        "version": {"N": str(schedule.version)},
    }
    if schedule.recurrence_from:
        item["recurrence_from"] = s_attr(schedule.recurrence_from)
    if schedule.cron:
        item["cron"] = s_attr(schedule.cron)
    if schedule.rate:
        item["rate"] = s_attr(schedule.rate)
    return item


def _schedule(item: dict[str, Any]) -> Schedule:
    return Schedule(
        owner=item["owner"]["S"],
        name=item["name"]["S"],
        schedule_id=item["schedule_id"]["S"],
        cron=item.get("cron", {}).get("S"),
        rate=item.get("rate", {}).get("S"),
        timezone=item["timezone"]["S"],
        task=json.loads(item["task"]["S"]),
        paused=item["paused"]["BOOL"],
        created_at=item["created_at"]["S"],
        updated_at=item["updated_at"]["S"],
        version=int(item.get("version", {}).get("N", "0")),  # records made before versions: 0
        recurrence_from=item.get("recurrence_from", {}).get("S"),
    )


class ScheduleRecords:
    """Each owner's schedules, keyed (owner, name), and a count per owner held under the stack's limit
    by the same transaction that adds or removes a schedule."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def _call(self, action: str, **request: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self._db, action)(**request)
        except (ClientError, BotoCoreError) as exc:
            raise SchedulesUnavailable(f"{action} failed: {exc}") from exc
        return response

    def _count_change(self, owner: str, change: int, limit: int | None = None) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"owner": s_attr(owner), "name": s_attr(_COUNT)},
            "UpdateExpression": "SET schedules = if_not_exists(schedules, :zero) + :change",
            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":change": {"N": str(change)}},
        }
        if limit is not None:
            update["ConditionExpression"] = "attribute_not_exists(schedules) OR schedules < :limit"
            update["ExpressionAttributeValues"][":limit"] = {"N": str(limit)}
        return {"Update": update}

    def add(self, schedule: Schedule, limit: int) -> None:
        """Store a new schedule unless the owner has one of that name or `limit` schedules already."""
        put = {
            "Put": {
                "TableName": self._table,
                "Item": _item(schedule),
                "ConditionExpression": "attribute_not_exists(#name)",
                "ExpressionAttributeNames": {"#name": "name"},
            }
        }
        try:
            self._db.transact_write_items(TransactItems=[put, self._count_change(schedule.owner, 1, limit)])
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise ScheduleExists(schedule.name) from None
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise ScheduleLimitReached(limit) from None
            raise SchedulesUnavailable(f"TransactWriteItems failed: {exc}") from exc
        except BotoCoreError as exc:
            raise SchedulesUnavailable(f"TransactWriteItems failed: {exc}") from exc

    def get(self, owner: str, name: str) -> Schedule | None:
        response = self._call(
            "get_item", TableName=self._table, Key={"owner": s_attr(owner), "name": s_attr(name)}, ConsistentRead=True
        )
        item = response.get("Item")
        return _schedule(item) if item and name != _COUNT else None

    def list(self, owner: str) -> list[Schedule]:
        """Every schedule of `owner`, by name (at most the stack's limit per owner: a few pages at most)."""
        return [_schedule(item) for item in every_named_item(self._call, self._table, owner)]

    def replace(self, schedule: Schedule, expected_version: int) -> None:
        """Write `schedule` over the record at `expected_version`; ScheduleChanged when another write
        came first or the record is gone (an edit never brings one back)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": _item(schedule),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }
        if expected_version == 0:  # a record written before records had versions
            del request["ExpressionAttributeValues"]
            request["ConditionExpression"] = "attribute_exists(#name) AND attribute_not_exists(version)"
            request["ExpressionAttributeNames"] = {"#name": "name"}
        try:
            self._db.put_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ScheduleChanged(schedule.name) from None
            raise SchedulesUnavailable(f"PutItem failed: {exc}") from exc
        except BotoCoreError as exc:
            raise SchedulesUnavailable(f"PutItem failed: {exc}") from exc

    def remove(self, owner: str, name: str) -> None:
        delete = {
            "Delete": {
                "TableName": self._table,
                "Key": {"owner": s_attr(owner), "name": s_attr(name)},
                "ConditionExpression": "attribute_exists(#name)",
                "ExpressionAttributeNames": {"#name": "name"},
            }
        }
        try:
            self._db.transact_write_items(TransactItems=[delete, self._count_change(owner, -1)])
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise ScheduleNotFound(name) from None
            raise SchedulesUnavailable(f"TransactWriteItems failed: {exc}") from exc
        except BotoCoreError as exc:
            raise SchedulesUnavailable(f"TransactWriteItems failed: {exc}") from exc


class Scheduler:
    """One EventBridge Scheduler schedule per tasklane schedule, in the stack's schedule group, each
    invoking the firing function with who and what fired, and when it was meant to."""

    def __init__(self, client: Any, group: str, role_arn: str, target_arn: str, dead_letter_arn: str) -> None:
        self._scheduler = client
        self._group = group
        self._role = role_arn
        self._target = target_arn
        self._dead_letter = dead_letter_arn

    def put(self, schedule: Schedule, *, create: bool) -> None:
        """Create the schedule, or update it to the record (UpdateSchedule replaces every field)."""
        firing = {
            "owner": schedule.owner,
            "name": schedule.name,
            "schedule_id": schedule.schedule_id,
            "scheduled_time": "<aws.scheduler.scheduled-time>",
        }
        request = {
            "Name": scheduler_name(schedule.owner, schedule.name),
            "GroupName": self._group,
            "ScheduleExpression": schedule.recurrence.expression(),
            "ScheduleExpressionTimezone": schedule.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "DISABLED" if schedule.paused else "ENABLED",
            "Target": {
                "Arn": self._target,
                "RoleArn": self._role,
                "Input": json.dumps(firing),
                # Scheduler retries a failed invocation for up to an hour; each retry is the same firing.
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
                # A firing still failing after that is kept, not dropped: the stack alarms on it.
                "DeadLetterConfig": {"Arn": self._dead_letter},
            },
        }
        try:
            (self._scheduler.create_schedule if create else self._scheduler.update_schedule)(**request)
        except ClientError as exc:
            if create and exc.response["Error"]["Code"] == "ConflictException":
                # Its name is the owner's and the schedule's, whose record was just written: what is
                # there is this very create (the SDK retried it after its answer was lost) or an orphan
                # of one that failed; either way it becomes the record's.
                self.put(schedule, create=False)
                return
            if exc.response["Error"]["Code"] == "ValidationException":
                field = "cron" if schedule.cron else "rate"
                said = _ARN_OR_ACCOUNT.sub("…", str(exc.response["Error"].get("Message", "")))[:200]
                raise ValidationFailed(
                    "EventBridge Scheduler refused the schedule", [{"field": field, "message": said}]
                ) from None
            raise SchedulesUnavailable(f"{'Create' if create else 'Update'}Schedule failed: {exc}") from exc
        except BotoCoreError as exc:
            raise SchedulesUnavailable(f"Scheduler call failed: {exc}") from exc

    def delete(self, owner: str, name: str) -> None:
        """Delete the schedule; one already gone is fine."""
        try:
            self._scheduler.delete_schedule(Name=scheduler_name(owner, name), GroupName=self._group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise SchedulesUnavailable(f"DeleteSchedule failed: {exc}") from exc
        except BotoCoreError as exc:
            raise SchedulesUnavailable(f"DeleteSchedule failed: {exc}") from exc
