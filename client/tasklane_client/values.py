"""Large values: a task's payload or result kept beside the API behind a short-lived presigned URL,
and a result written to a file or stream chunk by chunk."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from tasklane_client.errors import LargeValueUnavailable, ServerError, TasklaneError, from_answer
from tasklane_client.transport import Answer, json_body, where


class Writable(Protocol):
    """Where a downloaded value goes: a binary file or stream (`open(path, "wb")`, `sys.stdout.buffer`)."""

    def write(self, data: bytes, /) -> object: ...


def location(answer: Answer) -> str:
    """Where a 303 points: its Location header (or, should a proxy drop it, the body's result_url)."""
    url = answer.headers.get("location") or (json_body(answer.body) or {}).get("result_url")
    if not url:
        raise ServerError("the API answered 303 without a Location", status=answer.status, code="no_location")
    return str(url)


def storage_error(status: int, body: bytes, url: str, what: str) -> TasklaneError:
    """S3 answers errors in XML: <Error><Code>AccessDenied</Code><Message>Request has expired</Message>."""
    text = body.decode(errors="replace")
    code = _xml_field(text, "Code") or f"http_{status}"
    message = _xml_field(text, "Message") or text[:200]
    details = {"storage_code": code, "storage_message": message, "location": where(url)}
    if status == 429 or status >= 500:
        return from_answer(status, {"error": {"code": code, "message": f"{what}: {message}", "details": details}})
    return LargeValueUnavailable(
        f"{what} could not be read from its presigned URL ({code}: {message}); it has expired or was "
        "refused: ask the API again for a fresh URL",
        status=status,
        code="large_value_unavailable",
        details=details,
    )


def _xml_field(text: str, name: str) -> str | None:
    # A regex, not an XML parser: the body is untrusted and only two flat fields are wanted.
    match = re.search(rf"<{name}>([^<]*)</{name}>", text)
    return match.group(1) if match else None


def compact(value: Any) -> bytes:
    """A value as the API stores it: compact UTF-8 JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def copy_to(chunks: Iterable[bytes], sink: Writable) -> int:
    """Write every chunk to `sink`; the number of bytes written."""
    written = 0
    for chunk in chunks:
        sink.write(chunk)
        written += len(chunk)
    return written


def write_file(path: Path, chunks: Iterable[bytes]) -> int:
    """Write the chunks to `path` through a temporary file beside it (a device or pipe directly)."""
    if path.exists() and not path.is_file():  # /dev/stdout, a named pipe: no temporary file beside it
        with path.open("wb") as sink:
            return copy_to(chunks, sink)
    partial = path.with_name(f".{path.name}.part")
    try:
        with partial.open("wb") as sink:
            written = copy_to(chunks, sink)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written
