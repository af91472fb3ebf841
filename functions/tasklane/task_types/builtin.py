"""The task types tasklane runs everywhere. Add yours here: a payload model and a decorated function.

Each payload model is built (pydantic's schema and validator) when its type's first payload is
validated, not at import (`defer_build`): a function builds only the models of the types it meets.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tasklane.task_types.registry import TaskContext, task


class EchoPayload(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


@task("echo", payload=EchoPayload, timeout_seconds=10)
def echo(payload: EchoPayload, ctx: TaskContext) -> dict[str, Any]:
    """Return the payload unchanged."""
    return payload.model_dump()


class ComputePayload(BaseModel):
    model_config = ConfigDict(defer_build=True)

    n: int = Field(ge=0, le=100_000_000)


@task("compute", payload=ComputePayload, timeout_seconds=60)
def compute(payload: ComputePayload, ctx: TaskContext) -> int:
    """Sum range(n): a CPU-bound task."""
    return sum(range(payload.n))


class AddPayload(BaseModel):
    model_config = ConfigDict(defer_build=True)

    n: int = Field(default=0, ge=-(10**12), le=10**12)


@task("add", payload=AddPayload, timeout_seconds=10)
def add(payload: AddPayload, ctx: TaskContext) -> int:
    """n plus every number among its inputs (a workflow's: the results it waited for); a failed
    input ({"error": ...}) adds nothing."""
    return payload.n + sum(value for value in ctx.inputs if isinstance(value, int) and not isinstance(value, bool))


class ResizeImagePayload(BaseModel):
    model_config = ConfigDict(defer_build=True)

    source_key: str = Field(min_length=1, max_length=1024, examples=["uploads/cat.jpg"])
    width: int = Field(ge=1, le=10_000)
    height: int = Field(ge=1, le=10_000)
    format: Literal["jpeg", "png", "webp"] = "jpeg"


@task("resize_image", payload=ResizeImagePayload, timeout_seconds=30)
def resize_image(payload: ResizeImagePayload, ctx: TaskContext) -> dict[str, Any]:
    """Simulate resizing an image: some work in proportion to the pixels, then the output key."""
    pixels = payload.width * payload.height
    digest = hashlib.sha256(f"{payload.source_key}:{pixels}".encode()).hexdigest()
    time.sleep(min(0.5, pixels / 50_000_000))
    stem = payload.source_key.rsplit(".", 1)[0]
    return {
        "output_key": f"{stem}-{payload.width}x{payload.height}.{payload.format}",
        "width": payload.width,
        "height": payload.height,
        "etag": digest[:32],
    }


class GenerateReportPayload(BaseModel):
    model_config = ConfigDict(defer_build=True)

    report: str = Field(min_length=1, max_length=128, examples=["monthly-sales"])
    rows: int = Field(default=1000, ge=1, le=1_000_000)


@task("generate_report", payload=GenerateReportPayload, timeout_seconds=120)
def generate_report(payload: GenerateReportPayload, ctx: TaskContext) -> dict[str, Any]:
    """Simulate building a report in five sections, reporting progress after each."""
    digest = hashlib.sha256(payload.report.encode())
    sections = 5
    for section in range(1, sections + 1):
        for row in range(payload.rows // sections):
            digest.update(row.to_bytes(4, "little"))
        ctx.report_progress(100 * section / sections, f"section {section} of {sections}")
    return {"report": payload.report, "rows": payload.rows, "checksum": digest.hexdigest()}


class SendEmailPayload(BaseModel):
    model_config = ConfigDict(defer_build=True)

    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254, examples=["ada@example.com"])
    subject: str = Field(min_length=1, max_length=998)
    body: str = Field(default="", max_length=100_000)


@task("send_email", payload=SendEmailPayload, timeout_seconds=30, max_attempts=5, rate_limit="5/s")
def send_email(payload: SendEmailPayload, ctx: TaskContext) -> dict[str, str]:
    """Simulate handing an email to a mail service; the message id is stable per task."""
    message_id = hashlib.sha256(f"{ctx.task_id}:{payload.to}".encode()).hexdigest()[:24]
    return {"message_id": f"<{message_id}@tasklane>", "to": payload.to}
