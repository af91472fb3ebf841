"""The sample events of events/, adjusted per test: the same files `sam local invoke -e` takes."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from tests.cfn import ROOT

ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


def event(name: str) -> dict[str, Any]:
    return copy.deepcopy(_load(name))


def api_event(
    name: str,
    *,
    owner: str | None = ALICE,
    body: Any = ...,
    raw_body: str | None = None,
    task_id: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway proxy event from events/<name>.json for `owner`, with the given overrides."""
    e = event(name)
    e["requestContext"]["identity"]["userArn"] = owner
    e["requestContext"]["identity"]["caller"] = owner and owner.rsplit("/", 1)[-1]
    e["requestContext"]["identity"]["accessKey"] = owner and "AKIA" + owner.rsplit("/", 1)[-1].upper()
    if body is not ...:
        e["body"] = json.dumps(body)
    if raw_body is not None:
        e["body"] = raw_body
    if task_id is not None:
        e["pathParameters"] = {"task_id": task_id}
        e["path"] = e["resource"].replace("{task_id}", task_id)
    if query is not None:
        e["queryStringParameters"] = query or None
        e["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    if headers is not None:
        e["headers"].update(headers)
        e["multiValueHeaders"].update({k: [v] for k, v in headers.items()})
    e["headers"] = {k: v for k, v in e["headers"].items() if v is not None}
    e["multiValueHeaders"] = {k: [v] for k, v in e["headers"].items()}
    return e


def sqs_event(messages: list[dict[str, Any]], name: str = "processor") -> dict[str, Any]:
    """An SQS event carrying received messages ({Body, ReceiptHandle, MessageId, Attributes})."""
    template = event(name)["Records"][0]
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        record["body"] = message["Body"]
        record["receiptHandle"] = message["ReceiptHandle"]
        record["messageId"] = message["MessageId"]
        record["attributes"]["ApproximateReceiveCount"] = message.get("Attributes", {}).get(
            "ApproximateReceiveCount", "1"
        )
        records.append(record)
    return {"Records": records}
