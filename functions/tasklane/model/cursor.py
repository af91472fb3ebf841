"""Opaque listing cursors: the position after the last task of a page, checked on the way back in."""

from __future__ import annotations

import base64
import binascii
import json
import re

from tasklane.model.errors import BadRequest
from tasklane.model.ids import is_task_id

_CREATED_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#\d{3}#(?P<task_id>[0-9a-f-]{36})$")


def encode(created_key: str | None) -> str | None:
    if not created_key:
        return None
    raw = json.dumps({"k": created_key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> str | None:
    """The listing position a cursor stands for; a cursor that is not one of ours is a 400."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_key = json.loads(raw)["k"]
        match = _CREATED_KEY.match(created_key)
    except (binascii.Error, ValueError, KeyError, TypeError):
        match = None
    if not match or not is_task_id(match["task_id"]):
        raise BadRequest("invalid cursor: pass back the next_cursor of a previous page", {"field": "cursor"})
    return str(created_key)
