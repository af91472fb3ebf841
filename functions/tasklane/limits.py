"""The limits tasklane holds, in one place: each is below the AWS limit it protects (see docs/guarantees.md)."""

KIB, MIB = 1024, 1024 * 1024

# A payload is at most 1 MiB of JSON (UTF-8). Values above the inline threshold live in the values
# bucket and the task item keeps a reference, so an item stays far below DynamoDB's 400 KB.
MAX_PAYLOAD_BYTES = MIB
INLINE_VALUE_BYTES = 64 * KIB
# Results: MaxResultBytes is a stack parameter (10 MiB by default, 100 MiB at most), read by Settings.

# Nesting of a payload (objects and arrays inside it). pydantic refuses to serialise past ~255 levels
# and Python's JSON parser stops near 1,000; 64 is far beyond any real payload.
MAX_PAYLOAD_DEPTH = 64
# Python converts integers of at most this many digits (sys.get_int_max_str_digits' default).
MAX_INTEGER_DIGITS = 4300

# Webhooks: a callback URL's length; the deliveries a task shows (the last ones); how long a receiver
# gets to accept the connection and then to answer; how long and how far apart failed deliveries are
# retried (tasklane.logic.webhooks; the first wait is the stack parameter WebhookRetryBaseSeconds).
MAX_CALLBACK_URL_CHARS = 2048
WEBHOOK_DELIVERIES_KEPT = 10
WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5
WEBHOOK_READ_TIMEOUT_SECONDS = 10
# The whole of one call to a receiver (connect, TLS, request, the answer's status and headers): a
# receiver that trickles its answer a byte at a time is cut off here, not one read timeout per byte.
WEBHOOK_TOTAL_TIMEOUT_SECONDS = 15
WEBHOOK_RETRY_SECONDS = 24 * 3600
# How long an Idempotency-Key is remembered per caller (its record's TTL, and its task's derived id).
IDEMPOTENCY_KEY_SECONDS = 24 * 3600
WEBHOOK_MAX_BACKOFF_SECONDS = 2 * 3600

MAX_BATCH_SIZE = 100
# The request reaches the function inside a JSON event of at most 6 MB (Lambda's synchronous limit).
MAX_BATCH_BODY_BYTES = 5 * MIB
# An answer leaves the function inside a JSON document of at most 6 MB, its body escaped once more;
# above this the result route redirects to the value's URL instead of answering it inline.
MAX_INLINE_ANSWER_BYTES = 5 * MIB

# Presigned value URLs are short-lived: long enough to download 10 MiB on a slow line.
VALUE_URL_SECONDS = 900
# The result upload URL an async worker asks for (POST /tasks/{id}/result-upload) lasts an hour at most,
# never past its attempt's lease: long enough to PUT the largest result (MaxResultBytes, 100 MiB at
# most) on a slow line, and signed when asked, so its credentials are fresh whenever the worker asks.
RESULT_UPLOAD_SECONDS = 3600
# Details listed per rejected batch item (the rest are counted), so that answers stay bounded.
MAX_ERROR_DETAILS = 5
MAX_ERROR_TEXT = 200
# A task's error and progress texts: 100 tasks of a listing page stay well under 6 MB even when every
# character is one that the answer escapes to 12 bytes.
MAX_ERROR_TYPE_CHARS = 100
MAX_ERROR_MESSAGE_CHARS = 2000
MAX_PROGRESS_MESSAGE_CHARS = 200

# A task may be delayed up to a year (run_at or delay_seconds). A lane message waits at most 900 s
# (SQS's DelaySeconds); a task due later is `scheduled` and queued by the promoter when due.
MAX_DELAY_SECONDS = 365 * 24 * 3600
MAX_QUEUE_DELAY_SECONDS = 900
