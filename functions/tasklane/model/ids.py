"""Task ids: random UUIDs, checked before any lookup."""

import hashlib
import re
import uuid

_TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def new_task_id() -> str:
    return str(uuid.uuid4())


def derived_task_id(text: str) -> str:
    """The task id that `text` always gives, shaped as the random (version 4) ids of other tasks."""
    return str(uuid.UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=4))


def is_task_id(value: str) -> bool:
    return bool(_TASK_ID.match(value))
