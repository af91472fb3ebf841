"""The values bucket: payloads and results above the inline threshold. The only module that talks to S3.

Objects are written before the task item that names them, so an item never refers to a missing
object; an object whose item was never written expires with the bucket's lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tasklane.limits import VALUE_URL_SECONDS
from tasklane.model.errors import ServiceUnavailable


class ValueUnavailable(ServiceUnavailable):
    """The bucket did not store or return a value (a network or service error: worth another try)."""

    public_message = "the values bucket did not answer; try again shortly"


class ValueMissing(Exception):
    """The object a task refers to is gone (it expired with the task's retention)."""


@contextmanager
def _s3_errors(action: str, key: str) -> Iterator[None]:
    """S3's answers as domain errors: a missing object, or a bucket that did not answer."""
    try:
        yield
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise ValueMissing(key) from None
        raise ValueUnavailable(f"could not {action} {key}: {exc}") from exc
    except BotoCoreError as exc:
        raise ValueUnavailable(f"could not {action} {key}: {exc}") from exc


def payload_key(task_id: str) -> str:
    return f"payloads/{task_id}.json"


def result_key(task_id: str, attempt: int) -> str:
    """Per attempt, so that a late run can never overwrite the object the winning run refers to."""
    return f"results/{task_id}/{attempt}.json"


class ValueStore:
    """Write, read and hand out short-lived URLs of large values."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def put(self, key: str, data: bytes) -> None:
        with _s3_errors("store", key):
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="application/json")

    def get(self, key: str) -> bytes:
        with _s3_errors("read", key):
            return bytes(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())

    def renew(self, key: str) -> None:
        """Restart an object's lifecycle clock (an explicit retry gives its task a new life)."""
        source = {"Bucket": self._bucket, "Key": key}
        with _s3_errors("renew", key):
            self._s3.copy_object(
                Bucket=self._bucket,
                Key=key,
                CopySource=source,
                MetadataDirective="REPLACE",
                ContentType="application/json",
            )

    def size(self, key: str) -> int:
        """The object's size in bytes; ValueMissing when there is none."""
        with _s3_errors("look up", key):
            return int(self._s3.head_object(Bucket=self._bucket, Key=key)["ContentLength"])

    def get_head(self, key: str, limit: int) -> bytes:
        """At most the first `limit` bytes of the object (an object that grew since its size was read
        is cut, never read whole)."""
        with _s3_errors("read", key):
            answer = self._s3.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{max(0, limit - 1)}")
            return bytes(answer["Body"].read(limit))

    def upload_url(self, key: str, seconds: int) -> str:
        """A presigned PUT URL (SigV4, no network call) for `key`, valid for `seconds`."""
        url: str = self._s3.generate_presigned_url(
            "put_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds
        )
        return url

    def url(self, key: str) -> str:
        """A presigned GET URL (SigV4, no network call) valid for VALUE_URL_SECONDS."""
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=VALUE_URL_SECONDS
        )
        return url
