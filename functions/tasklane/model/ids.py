"""Task ids: random UUIDs, checked before any lookup."""

import re
import uuid

_TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def new_task_id() -> str:
    return str(uuid.uuid4())


def is_task_id(value: str) -> bool:
    return bool(_TASK_ID.match(value))
