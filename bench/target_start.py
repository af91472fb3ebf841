"""The processor's cold start with a registered type: its first task is of an owner's url type, so it
resolves the type through tasklane.logic.offered_types' cache (a miss: the definition is read) and
calls the target, a receiver on 127.0.0.1 run by the benchmark.

The real handler runs on a real SQS event in bench/cold_start.py's fresh, Lambda-like process. Only
the network to AWS is replaced: the DynamoDB answers the same task got on moto (recorded here, in
the order the processor asked) are given back by a botocore `before-call` handler, botocore's own
way to answer a call without sending it (its Stubber's). The HTTP call to the target is real.

The JSON Schema validator (jsonschema) checks payloads at submission only: this path must not load it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / ".aws-sam" / "bench" / "first-target-task.json"


ANSWER = b'{"ok": true}'


class _Target(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args: object) -> None:
        pass


def start_target() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def record(target_url: str, lane: str) -> Path:
    """Run one task of a url type on moto, as a fresh processor container would; keep its SQS event and
    the processor's AWS answers, in order."""
    sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    import tests.conftest as harness
    from tasklane.data import aws
    from tests import cfn
    from tests.events import api_event, sqs_event

    answers: list[dict[str, Any]] = []
    saved = dict(os.environ)
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        stack = cfn.build(session)
        os.environ.update(stack.environment(), POWERTOOLS_TRACE_DISABLED="true", CALLBACK_ALLOW_LOOPBACK="true")
        harness._reset_caches()
        system = harness.Tasklane(stack, session)
        schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
        put = api_event("put_task_type", body={"target": {"url": target_url}, "payload_schema": schema})
        put["pathParameters"], put["path"] = {"name": "resize"}, "/task-types/resize"
        assert system.call(put).status == 201
        assert system.call(api_event("webhook_secret")).status == 200  # the owner has a secret already
        body = {"task_type": "resize", "payload": {"n": 1}, "priority": lane}
        assert system.call(api_event("submit_task", body=body, headers={"Idempotency-Key": None})).status == 202
        messages = system.receive(lane)
        harness._reset_caches()  # a fresh container: no cached type, no cached client
        system.use_lane(lane)

        asked: list[dict[str, Any]] = []

        def keep(model: Any, parsed: dict[str, Any], **_: Any) -> None:
            kept = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
            answers.append({"service": model.service_model.service_name, "operation": model.name, "parsed": kept})
            answers[-1]["params"] = asked.pop()

        def ask(params: dict[str, Any], **_: Any) -> None:
            asked.append(json.loads(json.dumps(params)))

        for client in (aws.dynamodb(), aws.sqs(), aws.s3()):
            client.meta.events.register("before-parameter-build", ask)
            client.meta.events.register("after-call", keep)
        event = sqs_event(messages)
        response = system.process(lane, messages)
        assert response["batchItemFailures"] == [], response
    harness._reset_caches()
    aws.reset()
    os.environ.clear()
    os.environ.update(saved)  # the suites after this one see the environment they had
    RECORDING.parent.mkdir(parents=True, exist_ok=True)
    RECORDING.write_text(json.dumps({"event": event, "answers": answers}))
    return RECORDING


# What both bodies below fake alike: botocore's HTTP answer to a call it did not send, and the
# Lambda context the handler is given.
FAKES = """
class _Http:
    status_code = 200
    headers = {{}}
class _Context:
    function_name = 'tasklane-processor'
    memory_limit_in_mb = 512
    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:tasklane-processor'
    aws_request_id = '5b3f2c9e-0000-4000-8000-000000000000'
    def get_remaining_time_in_millis(self):
        return 300000
"""


# Run in the fresh process after the handler's import (bench/cold_start.py's body): the recorded
# answers are given back in order, each to the call it answered; the handler must take the task.
REPLAY = (
    """
import json
from tasklane.data import aws
from tasklane.handlers import processor
recording = json.load(open({path!r}))
answers = recording['answers']
"""
    + FAKES
    + """def _answer(model, **_):
    given = answers.pop(0)
    assert (given['service'], given['operation']) == (model.service_model.service_name, model.name), given
    return _Http(), given['parsed']
for service in sorted({{a['service'] for a in answers}}):
    getattr(aws, service)().meta.events.register('before-call', _answer)
answer = processor.lambda_handler(recording['event'], _Context())
assert answer['batchItemFailures'] == [] and not answers, (answer, answers)
"""
)


# The floor for the same task done without tasklane: a Powertools handler (its logger's context, its
# batch processor) whose record handler makes the same AWS requests (the recorded ones, on the clients
# the floor made, answered the same way), one POST to the same target with the standard library, and
# one log line. Its difference from the real handler's body is tasklane's own code.
CALLS = (
    """
import json, http.client
from botocore import xform_name
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
recording = json.load(open({path!r}))
answers = recording['answers']
"""
    + FAKES
    + """def _answer(model, **_):
    return _Http(), answers[0]['parsed']
def _work(record):
    for given in list(answers):
        client = _clients[given['service']]
        client.meta.events.register('before-call', _answer)
        getattr(client, xform_name(given['operation']))(**given['params'])
        client.meta.events.unregister('before-call', _answer)
        answers.pop(0)
    connection = http.client.HTTPConnection('127.0.0.1', {port})
    body = json.dumps({{'task': record.body, 'payload': {{'n': 1}}}}).encode()
    connection.request('POST', '/run', body=body, headers={{'Content-Type': 'application/json'}})
    json.loads(connection.getresponse().read())
    logger.info('task completed', extra={{'task_id': 't', 'attempt': 1}})
logger = Logger()
batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
@logger.inject_lambda_context
def handler(event, context):
    return process_partial_response(event=event, record_handler=_work, processor=batch, context=context)
assert handler(recording['event'], _Context())['batchItemFailures'] == []
"""
)


def calls_floor(libraries_floor: str, clients: tuple[str, ...], path: Path, port: int) -> str:
    """A libraries floor (bench/cold_start.py's) that then runs the handler above on the recorded event."""
    made = "import boto3; " + "; ".join(f"boto3.client({c!r})" for c in clients)
    assert libraries_floor.startswith(made), libraries_floor
    named = f"import boto3; _clients = {{c: boto3.client(c) for c in {clients!r}}}"
    code = repr(CALLS.format(path=str(path), port=port))
    return f"{named}{libraries_floor[len(made) :]}; exec(compile({code}, 'calls-floor', 'exec'))"


# Run around a body: the CPU each dataclass definition takes (the code `dataclasses` generates and
# compiles for each class at import), printed as a last line. Patched in this process only.
DATACLASS_TIMER = """
import dataclasses, sys, time
_spent = []
_process_class = dataclasses._process_class
def _timed(cls, *args, **kwargs):
    started = time.process_time()
    try:
        return _process_class(cls, *args, **kwargs)
    finally:
        if cls.__module__.startswith('tasklane'):
            _spent.append(time.process_time() - started)
dataclasses._process_class = _timed
{body}
print('DATACLASSES', len(_spent), sum(_spent))
"""


def dataclass_definitions(run: Any, body: str, extra: dict[str, str], runs: int) -> tuple[int, float]:
    """How many of tasklane's dataclasses `body` defines and the least CPU seconds their definitions
    took over `runs` runs: `run(code, extra)` runs code in bench/cold_start.py's fresh process and
    returns its output's last line."""
    code = "exec(compile(" + repr(DATACLASS_TIMER.format(body=body)) + ", 'timed', 'exec'))"
    seen = [run(code, extra).split() for _ in range(runs)]
    return int(seen[0][1]), min(float(s[2]) for s in seen)


def replay_body(path: Path) -> str:
    """One statement for `python -c`: the replay above, compiled and run."""
    return "exec(compile(" + repr(REPLAY.format(path=str(path))) + ", 'first-target-task', 'exec'))"


# The processor's environment for this task: the local stack's loopback rule (the target is on 127.0.0.1).
ENVIRONMENT = {"CALLBACK_ALLOW_LOOPBACK": "true"}
