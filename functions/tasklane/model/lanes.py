"""The three priority lanes; each is one SQS queue with its own DLQ and processor."""

from enum import StrEnum


class Lane(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"
