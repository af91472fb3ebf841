"""`make bench`: every benchmark, one table, also written to bench/results.json."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    cold_start,
    cost,
    local_stack,
    peer_celery,
    processor_overhead,
    rate_limits,
    requests_per_task,
    scheduling,
)


def main() -> None:
    only = set(sys.argv[1:])
    suites = {
        "cold_start": cold_start.measure,
        "processor": processor_overhead.measure,
        "requests": requests_per_task.measure,
        "cost": cost.measure,
        "local_stack": local_stack.measure,
        "rate_limits": rate_limits.measure,
        "scheduling": scheduling.measure,
        "peer": peer_celery.measure,
    }
    rows: list[dict[str, object]] = []
    for name, measure in suites.items():
        if not only or name in only:
            print(f"running {name} ...", file=sys.stderr)
            with contextlib.redirect_stdout(sys.stderr):  # what the functions log is not the table
                rows += measure()
    throughput = next((r for r in rows if str(r["figure"]).startswith("throughput")), None)
    peer = next((r for r in rows if str(r["figure"]).startswith("peer")), None)
    if throughput and peer:
        peer["tasklane"] = throughput["tasklane"]
        peer["ratio"] = round(float(throughput["tasklane"]) / float(peer["reference"]), 2)  # type: ignore[arg-type]
        peer["figure"] = str(peer["figure"]) + " vs tasklane on the emulated local stack"
    (ROOT / "bench" / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    width = max(len(str(r["figure"])) for r in rows)
    print(f"\n{'figure':<{width}}  {'tasklane':>10}  {'reference':>10}  {'ratio':>6}  unit      target")
    for r in rows:
        print(
            f"{r['figure']!s:<{width}}  {r['tasklane']!s:>10}  {r.get('reference', '')!s:>10}  "
            f"{r.get('ratio', '')!s:>6}  {r.get('unit', 'requests')!s:<8}  {r.get('target', '')}"
        )


if __name__ == "__main__":
    main()
