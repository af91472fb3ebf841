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
    feature_cost,
    local_stack,
    peer_celery,
    processor_overhead,
    rate_limits,
    requests_per_task,
    scheduling,
    target_cost,
    workflow_chord,
    workflows,
)


def judge(row: dict[str, object]) -> None:
    """A row with a target gets `pass`: its ratio (or, without one, its figure) against the target."""
    op, _, value = str(row.get("target") or "").partition(" ")
    if op == "within" and value.endswith("%") and row.get("ratio") is not None and "pass" not in row:
        row["pass"] = abs(float(row["ratio"]) - 1) <= float(value[:-1]) / 100  # type: ignore[arg-type]
        return
    if op not in ("<=", ">=") or "pass" in row:
        return  # no target, or one in words (said in the figure)
    try:
        float(value)
    except ValueError:
        return
    measured = float(row["ratio"] if row.get("ratio") is not None else row["tasklane"])  # type: ignore[arg-type]
    row["pass"] = measured <= float(value) if op == "<=" else measured >= float(value)


def main() -> None:
    only = set(sys.argv[1:])
    suites = {
        "cold_start": cold_start.measure,
        "processor": processor_overhead.measure,
        "requests": requests_per_task.measure,
        "cost": cost.measure,
        "feature_cost": feature_cost.measure,
        "target_cost": target_cost.measure,
        "local_stack": local_stack.measure,
        "rate_limits": rate_limits.measure,
        "scheduling": scheduling.measure,
        "workflows": workflows.measure,
        "workflow_chord": workflow_chord.measure,
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
    for row in rows:
        judge(row)
    (ROOT / "bench" / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    width = max(len(str(r["figure"])) for r in rows)
    print(f"\n{'figure':<{width}}  {'tasklane':>10}  {'reference':>10}  {'ratio':>6}  unit      target")
    for r in rows:
        verdict = {True: "pass", False: "FAIL"}.get(r.get("pass"), "")  # type: ignore[call-overload]
        print(
            f"{r['figure']!s:<{width}}  {r['tasklane']!s:>10}  {r.get('reference', '')!s:>10}  "
            f"{r.get('ratio', '')!s:>6}  {r.get('unit', 'requests')!s:<8}  {r.get('target', '')} {verdict}"
        )


if __name__ == "__main__":
    main()
