"""Cold start: import a handler and create its AWS clients in a fresh process, against the floor of
`import boto3` + the same clients. Runs interleaved, so both see the same machine noise.

Both run in a Lambda-like environment (.venv-lambda): boto3, which the python3.13 runtime provides,
and exactly what `sam build` packages from functions/requirements.txt. The development virtualenv is
no place to measure: its botocore finds awscrt and pyOpenSSL there, which the Lambda runtime does
not have, and their ~60 ms on both sides would flatter every ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.environment import lambda_environment  # noqa: E402

LAMBDA_VENV = ROOT / ".venv-lambda"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "functions"), **lambda_environment("high")}
ENV.pop("AWS_ENDPOINT_URL", None)

# handler module -> the clients it creates on its first invocation
HANDLERS = {
    "submit": ("dynamodb", "sqs"),
    "status": ("dynamodb",),
    "processor": ("dynamodb", "sqs"),
    "dead_letter": ("dynamodb",),
    "reconciler": ("dynamodb", "sqs"),
    "promoter": ("dynamodb", "sqs"),
    "schedules": ("dynamodb", "scheduler"),
    "firing": ("dynamodb", "sqs"),
}

# What each function must load by SPEC and the house rules (Powertools routing, validation and batch
# handling, pydantic for requests): a second floor, to tell tasklane's own share from its libraries'.
_OBSERVABILITY = (
    "from aws_lambda_powertools import Logger; Logger(); from aws_lambda_powertools.metrics import EphemeralMetrics"
)
_BATCH = "from aws_lambda_powertools.utilities.batch import BatchProcessor"
LIBRARIES = {
    "submit": f"{_OBSERVABILITY}; from aws_lambda_powertools.event_handler import APIGatewayRestResolver; "
    "APIGatewayRestResolver(enable_validation=True); from pydantic import BaseModel",
    "status": f"{_OBSERVABILITY}; from aws_lambda_powertools.event_handler import APIGatewayRestResolver",
    "processor": f"{_OBSERVABILITY}; {_BATCH}",
    "dead_letter": f"{_OBSERVABILITY}; {_BATCH}",
    "reconciler": _OBSERVABILITY,
    "promoter": _OBSERVABILITY,
    "schedules": f"{_OBSERVABILITY}; from aws_lambda_powertools.event_handler import APIGatewayRestResolver; "
    "APIGatewayRestResolver(enable_validation=True); from pydantic import BaseModel",
    "firing": f"{_OBSERVABILITY}; from pydantic import BaseModel",
}

# The processor's first task loads the task types and pydantic: a cost of its cold start all the same.
FIRST_TASK = "from tasklane.task_types import task_types; task_types(demo=False)"

_TIMER = "import time; t0 = time.perf_counter(); {body}; print(time.perf_counter() - t0)"


def _handler_body(name: str, clients: tuple[str, ...]) -> str:
    attribute = {"sqs": "queues", "dynamodb": "store", "scheduler": "scheduler"}
    touch = "; ".join(f"services().{attribute[c]}" for c in clients)
    return f"import tasklane.handlers.{name}; from tasklane.data.services import services; {touch}"


def _floor_body(clients: tuple[str, ...]) -> str:
    return "import boto3; " + "; ".join(f"boto3.client({c!r})" for c in clients)


@cache
def lambda_python() -> str:
    """The interpreter of the Lambda-like environment, created on first use."""
    python = LAMBDA_VENV / "bin" / "python"
    stamp = LAMBDA_VENV / ".installed"
    requirements = ROOT / "functions" / "requirements.txt"
    if not stamp.exists() or stamp.read_text() != requirements.read_text():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(LAMBDA_VENV)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [str(python), "-m", "pip", "install", "-q", "boto3", "-r", str(requirements)], check=True
        )
        stamp.write_text(requirements.read_text())
    return str(python)


def _run(body: str) -> float:
    out = subprocess.run(  # noqa: S603
        [lambda_python(), "-c", _TIMER.format(body=body)], env=ENV, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def _libraries_rows(runs: int) -> list[dict[str, object]]:
    rows = []
    for name, clients in HANDLERS.items():
        ours, floor = [], []
        for _ in range(runs):
            ours.append(_run(_handler_body(name, clients)))
            floor.append(_run(_floor_body(clients) + "; " + LIBRARIES[name]))
        ours_ms, floor_ms = statistics.median(ours) * 1000, statistics.median(floor) * 1000
        rows.append(
            {
                "figure": f"cold start {name} vs boto3 + the Powertools/pydantic it must load (tasklane's own share)",
                "tasklane": round(ours_ms, 1),
                "reference": round(floor_ms, 1),
                "unit": "ms",
                "ratio": round(ours_ms / floor_ms, 2),
                "target": "",
            }
        )
    return rows


def measure(runs: int = 9) -> list[dict[str, object]]:
    cases = [(name, name, clients, "") for name, clients in HANDLERS.items()]
    cases.append(("processor", "processor + first task", HANDLERS["processor"], FIRST_TASK))
    rows = []
    for module, label, clients, then in cases:
        ours, floor = [], []
        for _ in range(runs):
            ours.append(_run(_handler_body(module, clients) + (f"; {then}" if then else "")))
            floor.append(_run(_floor_body(clients)))
        ours_ms, floor_ms = statistics.median(ours) * 1000, statistics.median(floor) * 1000
        rows.append(
            {
                "figure": f"cold start {label} (import + clients, Lambda-like env, median of {runs})",
                "tasklane": round(ours_ms, 1),
                "reference": round(floor_ms, 1),
                "unit": "ms",
                "ratio": round(ours_ms / floor_ms, 2),
                "target": "<= 1.25",
            }
        )
    return rows + _libraries_rows(runs)


if __name__ == "__main__":
    for row in measure():
        print(row)
