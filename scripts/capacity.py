"""Capacity plan: what each lane, table, index and API needs at a given submit rate, from AWS quotas.

    python scripts/capacity.py [tasks-per-second ...]     (default: 1000 10000)

A small model, not a load test: arrivals by lane and duration mix, Little's law for concurrency,
the SQS event source mapping's documented ramp, DynamoDB per-partition limits, and the quotas an
account starts with. docs/scaling.md is written from its output."""

from __future__ import annotations

import math
import sys

# The workload: the share of tasks per lane, and per duration (seconds) within every lane.
LANES = {"high": 0.2, "normal": 0.6, "low": 0.2}
DURATIONS = {0.1: 0.70, 1.0: 0.25, 30.0: 0.05}
OVERHEAD_S = 0.02  # claim + complete writes and the function's own work per task
POLLS_PER_TASK = 2.0  # clients reading status while waiting (GET /tasks/{id})
SUBMITS_PER_REQUEST = {"single": 1, "batch of 100": 100}

# The template's defaults.
TEMPLATE = {"concurrency": {"high": 10, "normal": 5, "low": 2}, "batch_size": 10, "owner_shards": 8, "sweep_shards": 8}

# AWS quotas an account starts with (us-east-1), and fixed limits.
QUOTA = {
    "lambda_concurrency": 1000,  # per region, adjustable
    "esm_start": 5,  # concurrent batches an SQS event source mapping starts with
    "esm_ramp_per_min": 300,  # added per minute while messages wait
    "esm_max": 1000,  # MaximumConcurrency's ceiling per mapping
    "sqs_in_flight": 120_000,  # per standard queue
    "partition_wcu": 1000,  # write units per second per partition key value (table and each index)
    "ondemand_table_wru": 40_000,  # per table (and per index), adjustable
    "ondemand_initial_wru": 4_000,  # what a new on-demand table serves at once; warm throughput raises it
    "apigw_rps": 10_000,  # REST, per account and region, adjustable
    "apigw_burst": 5_000,
}

# Write units per task (items < 1 KB): table 3 (put, claim, complete); ByOwner 3 (the same writes
# change projected attributes), Sweep 2 (enter at submit, leave at completion).
WRU = {"table": 3, "ByOwner": 3, "Sweep": 2}


def plan(rate: float) -> list[tuple[str, str, str]]:
    mean = sum(d * p for d, p in DURATIONS.items()) + OVERHEAD_S
    rows: list[tuple[str, str, str]] = [
        ("workload", f"{rate:,.0f} tasks/s", f"mean task {mean:.2f} s (70% 0.1 s, 25% 1 s, 5% 30 s)")
    ]
    total = 0
    for lane, share in LANES.items():
        need = math.ceil(rate * share * mean)  # Little's law: concurrent tasks = arrival rate x time in service
        total += need
        ramp = max(0.0, (min(need, QUOTA["esm_max"]) - QUOTA["esm_start"]) / QUOTA["esm_ramp_per_min"])
        fits = (
            "within one mapping"
            if need <= QUOTA["esm_max"]
            else f"over one mapping's {QUOTA['esm_max']}: split the lane"
        )
        keeps_up = rate * share * mean <= TEMPLATE["concurrency"][lane]
        rows.append((
            f"lane {lane}", f"concurrency {need:,}",
            f"{fits}; ramp from 5 takes {ramp:.1f} min; default MaximumConcurrency {TEMPLATE['concurrency'][lane]}"
            + (" keeps up" if keeps_up else f" drains {TEMPLATE['concurrency'][lane] / mean:,.0f} tasks/s: raise it to {need:,}"),
        ))  # fmt: skip
        in_flight = need * TEMPLATE["batch_size"]
        rows.append((f"  sqs {lane}", f"in flight {in_flight:,}", f"limit {QUOTA['sqs_in_flight']:,} per queue"))
    rows.append(("lambda", f"concurrency {total:,}", f"account default {QUOTA['lambda_concurrency']:,}"))
    for index, per_task in WRU.items():
        wru = rate * per_task
        if index == "table":
            keys, note = (
                "task_id (uniform)",
                f"table max {QUOTA['ondemand_table_wru']:,}; a new table serves {QUOTA['ondemand_initial_wru']:,} at once",
            )
            hottest = wru / 1e9
        elif index == "ByOwner":
            keys = f"{TEMPLATE['owner_shards']} shards per caller"
            hottest = wru / TEMPLATE["owner_shards"]  # worst case: one caller submits everything
            note = f"one caller: {hottest:,.0f} WCU/s per shard (limit {QUOTA['partition_wcu']:,}); shards needed {math.ceil(wru / QUOTA['partition_wcu'] / 0.7)}"
        else:
            keys = f"{TEMPLATE['sweep_shards']} shards"
            hottest = wru / TEMPLATE["sweep_shards"]
            note = f"{hottest:,.0f} WCU/s per shard (limit {QUOTA['partition_wcu']:,}); shards needed {math.ceil(wru / QUOTA['partition_wcu'] / 0.7)}"
        rows.append((f"dynamodb {index}", f"{wru:,.0f} WRU/s over {keys}", note))
    for mode, per_request in SUBMITS_PER_REQUEST.items():
        rps = rate / per_request + rate * POLLS_PER_TASK
        rows.append(
            (
                f"api gateway ({mode} submits)",
                f"{rps:,.0f} requests/s",
                f"account default {QUOTA['apigw_rps']:,} steady, {QUOTA['apigw_burst']:,} burst",
            )
        )
    return rows


def rates_of(args: list[str]) -> list[float]:
    """The submit rates asked for (tasks per second, each > 0); SystemExit with a usage line otherwise."""
    rates = []
    for arg in args:
        try:
            rate = float(arg)
        except ValueError:
            rate = math.nan
        if not math.isfinite(rate) or rate <= 0:
            raise SystemExit(f"capacity.py: {arg!r} is not a rate: give tasks per second, e.g. 1000 10000")
        rates.append(rate)
    return rates or [1000.0, 10000.0]


def main() -> None:
    for rate in rates_of(sys.argv[1:]):
        print(f"\n== {rate:,.0f} tasks/s")
        for name, need, note in plan(rate):
            print(f"{name:<32} {need:<34} {note}")


if __name__ == "__main__":
    main()
