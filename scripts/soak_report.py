"""The soak's report of the kinds beside its planned tasks: scheduled tasks, rate-limited types,
webhooks, the recurring schedule's firings, workflows and url targets."""

from __future__ import annotations

from collections import Counter

from scripts.soak_receiver import WebhookFigures
from scripts.soak_schedule import Firings
from scripts.soak_target import TargetFigures
from scripts.soak_timing import Lateness, RateFigures
from scripts.soak_workflows import WorkflowFigures


def report_extras(
    lateness: Lateness, rates: dict[str, RateFigures], webhooks: WebhookFigures, firings: Firings, deadline: int | None
) -> str:
    """The figures of the scheduled tasks, the rate-limited types, the webhooks and the recurring schedule."""
    lines = [
        f"  scheduled (run_at past the queue-delay horizon): {lateness.started} started, after their run_at by "
        f"{lateness.median:.1f} s median, {lateness.longest:.1f} s at most (the promoter's promise: 60 s)",
    ]
    for name, r in rates.items():
        lines.append(
            f"  {name}: {r.starts} starts over {r.span:.1f} s, at most {r.most_in_a_second} in any sliding second "
            f"(rate {r.rate}/s); {r.rate + 1} consecutive starts spanned {r.closest:.3f} s at least"
        )
    held = f"{webhooks.longest_tarpit_hold:.1f} s" + (
        f" (a call's deadline: {deadline} s)" if deadline else " (this code sets no total deadline per call)"
    )
    lines += [
        f"  webhooks: {webhooks.tasks} tasks with a callback {webhooks.by_status}; {webhooks.calls} calls "
        f"answered {webhooks.answers}",
        f"    never delivered {len(webhooks.undelivered)}, bad signatures {len(webhooks.unsigned)}, "
        f"delivered more than once {webhooks.delivered_more_than_once}, calls for tasks without a callback "
        f"{len(webhooks.stray)}; longest a tarpit held a call: {held}",
        f"  recurring schedule (rate 1 minute, {firings.lived:.0f} s): {firings.due} firings due, "
        f"{len(firings.tasks)} tasks {dict(Counter(firings.tasks.values()))} ({firings.late} of firings due within "
        f"the emulator's lag of the deletion), missing {len(firings.missing)}, tasks no firing explains "
        f"{len(firings.unexplained)}",
    ]
    return "\n".join(lines) + "\n"


def report_products(flows: WorkflowFigures | None, targets: TargetFigures | None) -> str:
    """The figures of the workflows and the url-target tasks, or that the stack offers none."""
    if flows is None:
        lines = ["  workflows: this stack has no POST /workflows"]
    else:
        lines = [
            f"  workflows: {flows.workflows} ended {flows.statuses}, {len(flows.tasks)} nodes; not completed with "
            f"their sum {len(flows.wrong_result)}, nodes started before an input finished {len(flows.early)}"
        ]
    if targets is None:
        lines.append("  url target: this stack has no PUT /task-types")
    else:
        lines.append(
            f"  url target: {targets.tasks} tasks, {targets.calls} calls answered {targets.answers}; without the "
            f"target's answer as result {len(targets.wrong)}, unsigned {len(targets.unsigned)}, "
            f"answered 200 twice {len(targets.answered_twice)}"
        )
    return "\n".join(lines) + "\n"
