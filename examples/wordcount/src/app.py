"""A task type of this application's own, run by tasklane: counts the words of a text.

tasklane invokes this function with its envelope (task_id, attempt, payload or payload_url, inputs,
...) and keeps what it returns as the task's result; an exception fails the attempt, which tasklane
retries with backoff. `task_id` + `attempt` identify a run: use them as an idempotency key for any
side effect.
"""

import json
import urllib.request
from collections import Counter


def handler(event, context):
    payload = event.get("payload")
    if payload is None and event.get("payload_url"):
        # A payload too large to travel inline is a short-lived presigned URL.
        with urllib.request.urlopen(event["payload_url"], timeout=10) as answer:  # noqa: S310
            payload = json.load(answer)
    text = payload["text"]
    words = Counter(word.strip(".,;:!?\"'()").lower() for word in text.split())
    words.pop("", None)
    top = payload.get("top", 3)
    return {
        "words": sum(words.values()),
        "distinct": len(words),
        "top": [[word, n] for word, n in words.most_common(top)],
        "run": f"{event['task_id']}#{event['attempt']}",
    }
