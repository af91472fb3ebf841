"""Task ids: random UUIDs when tasklane makes them; any UUID names a task, in its lower-case form."""

import hashlib
import re
import uuid

# The hyphenated form of any UUID (any version, the nil one too), in either case.
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def new_task_id() -> str:
    return str(uuid.uuid4())


def derived_task_id(text: str) -> str:
    """The task id that `text` always gives, shaped as the random (version 4) ids of other tasks."""
    return str(uuid.UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=4))


def task_id_of(value: str) -> str | None:
    """The task id `value` names (its lower-case form), or None when it is not a UUID."""
    return value.lower() if _UUID.match(value) else None


def is_task_id(value: str) -> bool:
    """Whether `value` is a task id as tasklane keeps it (a UUID in lower case)."""
    return task_id_of(value) == value
