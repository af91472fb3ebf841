// One task (#/tasks/<id>): its fields, attempts, webhook deliveries, payload and result, followed live.

import {
  $, api, authProblem, bytes, confirmAction, el, errorText, FINISHED, progressText, showAnswer, statusBadge, when,
} from "./core.js";
import { taskTypes } from "./view-task-types.js";

const watch = { id: null, timer: null, delay: 1000, last: "", kind: null };
const SLOWEST_MS = 10000; // a finished task is still read now and then: a retry from elsewhere shows

function valueBlock(container, value, size, url, name) {
  const nodes = [];
  if (url) { // a large value lives in the values bucket: link to its short-lived URL
    const link = el("a", `Download the ${name} (${bytes(size)})`);
    link.href = url;
    link.rel = "noreferrer";
    link.target = "_blank";
    nodes.push(link, el("p", "The link is valid for 15 minutes.", "muted"));
  } else if (value === null || value === undefined) {
    nodes.push(el("p", "none", "muted"));
  } else {
    nodes.push(el("pre", JSON.stringify(value, null, 2), "value"));
    if (size) nodes.push(el("p", bytes(size), "muted"));
  }
  container.replaceChildren(...nodes);
}

function seconds(from, to) { return `${((new Date(to) - new Date(from)) / 1000).toFixed(1)} s`; }

function fieldList(task) {
  const fields = [
    ["Status", statusBadge(task.status)], ["Type", task.task_type], ["Kind", watch.kind || "…"],
    ["Priority", task.priority],
    ["Attempts", `${task.attempts} of ${task.max_attempts}`], ["Timeout", `${task.timeout_seconds} s`],
  ];
  if (task.run_at) fields.push(["Runs at", when(task.run_at)]);
  else fields.push(["Delay", `${task.delay_seconds} s`]);
  if (task.next_attempt_at) fields.push(["Next attempt", when(task.next_attempt_at)]);
  if (task.deadline) fields.push(["Deadline", when(task.deadline)]);
  if (task.waiting_for) fields.push(["Waiting for", task.waiting_for.replace("_", " ")]);
  fields.push(["Created", when(task.created_at)], ["Started", when(task.started_at)],
    ["Finished", when(task.finished_at)], ["Updated", when(task.updated_at)]);
  if (task.started_at && task.finished_at) fields.push(["Ran for", seconds(task.started_at, task.finished_at)]);
  if (task.started_at) fields.push(["Waited", seconds(task.created_at, task.started_at)]);
  if (task.schedule) fields.push(["Schedule", task.schedule]);
  if (task.workflow_id) {
    const link = el("a", task.workflow_id);
    link.href = `#/workflows/${task.workflow_id}`;
    link.setAttribute("aria-label", `workflow ${task.workflow_id}`);
    fields.push(["Workflow", link]);
  }
  return fields;
}

// Each attempt's outcome (attempt_history: the last ten), when each ended and how.
function renderAttempts(task) {
  const history = task.attempt_history || [];
  const box = $("#task-attempts");
  if (!history.length) {
    box.replaceChildren(el("p", task.attempts ? "Only the last attempt's error is kept for this task (above)." : "Not run yet.", "muted"));
    return;
  }
  const table = el("table", null, "attempts");
  const head = el("tr");
  for (const name of ["Attempt", "Outcome", "Ended", "Error"]) head.append(el("th", name));
  table.append(el("thead"), el("tbody"));
  table.tHead.append(head);
  for (const attempt of history) {
    const row = el("tr");
    row.append(el("td", attempt.attempt), el("td", attempt.outcome), el("td", when(attempt.at)),
      el("td", errorText(attempt.error), "error"));
    table.tBodies[0].append(row);
  }
  const scroller = el("div", null, "scroll");
  scroller.append(table);
  const notes = [scroller];
  if (task.next_attempt_at && !FINISHED.includes(task.status)) {
    notes.push(el("p", `Next attempt at ${when(task.next_attempt_at)}.`, "muted next-attempt"));
  }
  box.replaceChildren(...notes);
}

function renderDeliveries(task) {
  const box = $("#task-deliveries");
  if (!task.callback) { box.replaceChildren(el("p", "This task has no callback URL.", "muted")); return; }
  const deliveries = task.callback.deliveries || [];
  if (!deliveries.length) { box.replaceChildren(el("p", "No delivery yet: the webhook goes when the task ends.", "muted")); return; }
  const table = el("table", null, "deliveries");
  const head = el("tr");
  for (const name of ["At", "Attempt", "Status", "Outcome"]) head.append(el("th", name));
  table.append(el("thead"), el("tbody"));
  table.tHead.append(head);
  for (const d of deliveries) {
    const row = el("tr");
    const outcome = d.delivered ? `delivered (HTTP ${d.status_code})`
      : `failed: ${d.status_code ? `HTTP ${d.status_code}` : d.error || "no answer"}`;
    row.append(el("td", when(d.at)), el("td", d.attempt), el("td", d.status || ""), el("td", outcome, d.delivered ? "" : "error"));
    table.tBodies[0].append(row);
  }
  const scroller = el("div", null, "scroll");
  scroller.append(table);
  box.replaceChildren(scroller, el("p", "The URL itself stays out of the page.", "muted"));
}

// The type's kind (builtin, url, lambda) from the types list; a type since deleted is said so.
async function kindOf(name) {
  try {
    const found = (await taskTypes()).find((type) => type.name === name);
    return found ? found.kind : "unknown (no such type now)";
  } catch (error) {
    return `unknown (the types could not be read: ${error.message})`;
  }
}

function renderTask(task) {
  $("#task-title").textContent = `Task ${task.task_id}`;
  $("#task-fields").replaceChildren(...fieldList(task).flatMap(([name, value]) => {
    const dd = el("dd");
    dd.dataset.field = name.toLowerCase();
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    return [el("dt", name), dd];
  }));
  const percent = task.status === "completed" ? 100 : (task.progress ? task.progress.percent : 0);
  $("#task-progress").value = percent;
  $("#task-progress-text").textContent = progressText(task.progress) || `${Math.round(percent)}%`;
  $("#task-error").textContent = errorText(task.error) || "none";
  renderAttempts(task);
  renderDeliveries(task);
  valueBlock($("#task-payload"), task.payload, task.payload_size, task.payload_url, "payload");
  valueBlock($("#task-result"), task.result, task.result_size, task.result_url, "result");
  $("#cancel-task").disabled = !["scheduled", "pending"].includes(task.status);
  $("#retry-task").disabled = !["failed", "cancelled"].includes(task.status);
}

async function poll() {
  clearTimeout(watch.timer);
  const id = watch.id;
  if (!id) return;
  try {
    const task = await api("GET", `/tasks/${id}`);
    if (watch.id !== id) return;
    if (!watch.kind) watch.kind = await kindOf(task.task_type);
    if (watch.id !== id) return;
    renderTask(task);
    const fingerprint = JSON.stringify([task.status, task.progress, task.attempts]);
    // Live progress by polling with back-off: quick while the task changes, slower while it does not.
    watch.delay = fingerprint === watch.last ? Math.min(watch.delay * 1.5, SLOWEST_MS) : 1000;
    if (FINISHED.includes(task.status)) watch.delay = SLOWEST_MS;
    watch.last = fingerprint;
  } catch (error) {
    if (authProblem(error)) return;
    showAnswer(`Could not read task ${id}: ${error.message}`, true);
    watch.delay = Math.min(watch.delay * 2, 30000);
  }
  if (watch.id === id) watch.timer = setTimeout(poll, watch.delay);
}

async function act(kind) {
  const id = watch.id;
  const verb = kind === "cancel" ? "Cancel" : "Retry";
  const sure = await confirmAction(`${verb} task`, `${verb} task ${id}?`);
  if (!sure) { showAnswer(`Task ${id} was left as it was.`); return; }
  try {
    const task = kind === "cancel" ? await api("DELETE", `/tasks/${id}`) : await api("POST", `/tasks/${id}/retry`);
    showAnswer(`${kind === "cancel" ? "Cancelled" : "Retried"}: task ${id} is now ${task.status}.`);
    watch.delay = 1000;
    watch.last = "";
    poll();
  } catch (error) {
    if (!authProblem(error)) showAnswer(`${verb} refused: ${error.message}`, true);
  }
}

export default {
  name: "task",
  label: null, // reached from a list, not from the menu
  section: "#task-view",
  match: (path) => {
    const found = path.match(/^\/tasks\/([0-9a-f-]{36})$/i);
    return found ? { id: found[1].toLowerCase() } : null;
  },
  init() {
    $("#task-title").tabIndex = -1; // focused on arrival, for screen readers; no outline (app.css)
    $("#cancel-task").addEventListener("click", () => act("cancel"));
    $("#retry-task").addEventListener("click", () => act("retry"));
  },
  show({ id }) {
    watch.id = id;
    watch.delay = 1000;
    watch.last = "";
    watch.kind = null;
    $("#task-title").textContent = `Task ${id}`;
    $("#task-fields").replaceChildren();
    poll();
    $("#task-title").focus();
  },
  hide() { watch.id = null; clearTimeout(watch.timer); },
};
