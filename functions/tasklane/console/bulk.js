// Bulk cancel and retry, run by the server (POST /tasks/bulk): count first, ask with the count,
// then follow the job's progress until it is done.

import { $, api, authProblem, confirmAction, el, plural, showAnswer } from "./core.js";

const POLL_MS = 1000;
const PAST = { cancel: "Cancelled", retry: "Retried" };
const VERB = { cancel: "Cancel", retry: "Retry" };

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

async function follow(bulkId, onUpdate) {
  for (;;) {
    const progress = await api("GET", `/tasks/bulk/${bulkId}`);
    if (onUpdate) onUpdate(progress);
    if (progress.status === "done") return progress;
    await sleep(POLL_MS);
  }
}

function showProgress(action, progress) {
  const panel = $("#bulk-progress");
  const bar = el("progress");
  bar.max = Math.max(1, progress.matched);
  bar.value = progress.changed + progress.skipped;
  const done = progress.status === "done";
  const text = `${done ? "Done" : "Running"}: ${progress.changed} ${PAST[action].toLowerCase()}, ` +
    `${progress.skipped} skipped, of ${progress.matched} matched${done ? "" : " so far"}.`;
  panel.replaceChildren(el("h3", `${VERB[action]} in bulk`), bar, el("span", text, "bulk-text"));
  panel.dataset.status = progress.status;
  panel.hidden = false;
}

// `what` names the tasks in a sentence ("failed tasks of type resize"); `filter` is the API's.
export async function bulkAction(action, filter, what, onDone) {
  const panel = $("#bulk-progress");
  panel.hidden = false;
  panel.replaceChildren(el("span", `Counting the ${what}…`, "bulk-text"));
  let counted;
  try {
    const started = await api("POST", "/tasks/bulk", { action, filter, dry_run: true });
    counted = await follow(started.bulk_id);
  } catch (error) {
    panel.hidden = true;
    if (!authProblem(error)) showAnswer(`Could not count the ${what}: ${error.message}`, true);
    return;
  }
  panel.hidden = true;
  if (!counted.matched) {
    showAnswer(`No ${what} to ${action}.`);
    return;
  }
  const sure = await confirmAction(`${VERB[action]} ${plural(counted.matched, "task")}`,
    `${counted.matched} ${what} match. ${VERB[action]} ${counted.matched === 1 ? "it" : "all of them"}? ` +
    "The server does it in the background; this page shows its progress.", `${VERB[action]} ${counted.matched}`);
  if (!sure) { showAnswer(`Nothing was ${PAST[action].toLowerCase()}.`); return; }
  try {
    const started = await api("POST", "/tasks/bulk", { action, filter });
    const done = await follow(started.bulk_id, (progress) => showProgress(action, progress));
    showAnswer(`${PAST[action]} ${done.changed} of ${done.matched} ${what}.` +
      (done.skipped ? ` ${done.skipped} skipped: something else moved them first.` : ""), done.skipped > 0);
  } catch (error) {
    if (!authProblem(error)) showAnswer(`${VERB[action]} in bulk stopped: ${error.message}`, true);
  }
  if (onDone) onDone();
}
