// The tasklane console: plain JavaScript on the public API, no build step. Every value from the
// API is written with textContent, never as HTML.
"use strict";

const AUTH = document.querySelector('meta[name="tasklane-auth"]').content; // iam | api_key | proxy
const KEY_STORE = "tasklane.apiKey"; // sessionStorage: the key lives as long as the tab
// The API is where the page is: .../v1/console -> .../v1 (on the stack and behind `tasklane console`).
const API = location.pathname.replace(/\/console\/?$/, "");
const FINISHED = ["completed", "failed", "cancelled"];
const OVERVIEW_EVERY_MS = 5000;
const PAGE_SIZE = 20;

const $ = (selector) => document.querySelector(selector);
const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// ---------------------------------------------------------------- API calls

async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (AUTH === "api_key") headers["x-api-key"] = sessionStorage.getItem(KEY_STORE) || "";
  if (body !== undefined) headers["content-type"] = "application/json";
  let answer;
  try {
    answer = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, "network", "the API did not answer: " + error.message);
  }
  const text = await answer.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!answer.ok) {
    const error = (data && data.error) || {};
    const message = error.message || (data && data.message) || answer.statusText || "request failed";
    throw new ApiError(answer.status, error.code || String(answer.status), message);
  }
  return data;
}

function authProblem(error) {
  if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) return false;
  if (AUTH === "api_key") {
    sessionStorage.removeItem(KEY_STORE);
    showKeyForm(`The API key was refused (HTTP ${error.status}: ${error.message}). Check the key and enter it again.`);
  } else {
    showAlert(`The API refused the request (HTTP ${error.status}: ${error.message}). ` +
      "Check that your AWS credentials may call this API.");
  }
  return true;
}

// ---------------------------------------------------------------- messages

function showAlert(text) {
  const alert = $("#alert");
  alert.textContent = text;
  alert.hidden = !text;
}

function showAnswer(text, bad = false) {
  const answer = $("#answer");
  answer.textContent = text;
  answer.classList.toggle("bad", bad);
  answer.hidden = false;
}

function setConnection(text) { $("#connection").textContent = text; }

function confirmAction(title, text) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

// ---------------------------------------------------------------- formatting

function age(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function when(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  return moment.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

function statusBadge(status) { return el("span", status, `status status-${status}`); }

function progressText(progress) {
  if (!progress) return "";
  return `${Math.round(progress.percent)}%` + (progress.message ? ` ${progress.message}` : "");
}

function errorText(error) { return error ? `${error.type}: ${error.message}` : ""; }

function bytes(size) {
  if (size === null || size === undefined) return "";
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

// ---------------------------------------------------------------- overview

let chart = null;

function renderLanes(lanes) {
  const body = $("#lanes tbody");
  body.replaceChildren(...lanes.map((lane) => {
    const row = el("tr");
    row.dataset.lane = lane.lane;
    row.append(el("th", lane.lane), el("td", lane.queued), el("td", lane.in_flight), el("td", lane.delayed),
      el("td", age(lane.oldest_age_seconds)), el("td", lane.concurrency), el("td", lane.dlq, lane.dlq > 0 ? "error" : ""));
    row.firstChild.scope = "row";
    return row;
  }));
}

function renderCounts(counts, complete) {
  const items = Object.entries(counts).map(([status, count]) => {
    const item = el("li");
    item.append(el("strong", count), statusBadge(status));
    return item;
  });
  if (!complete) items.push(el("li", "more than the console reads at once: counts are partial", "muted"));
  $("#counts").replaceChildren(...items);
}

function renderChart(throughput) {
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const scope = throughput.scope === "stack" ? "all callers (CloudWatch metrics)" : "your tasks (read from the task table)";
  $("#throughput-summary").textContent =
    `Last hour: ${sum(throughput.completed)} completed, ${sum(throughput.failed)} failed — ${scope}.`;
  $("#age-source").textContent = throughput.scope === "stack"
    ? "SQS's age of the oldest message (CloudWatch)" : "the age of your oldest pending task in the lane";
  const data = [throughput.minutes, throughput.completed, throughput.failed];
  const box = $("#chart");
  const width = Math.max(320, box.clientWidth || 600);
  if (chart) {
    chart.setData(data);
    if (Math.abs(chart.width - width) > 20) chart.setSize({ width, height: 220 });
    return;
  }
  chart = new uPlot({
    width, height: 220,
    scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    axes: [{}, { label: "tasks / min" }],
    series: [
      {},
      { label: "completed", stroke: "#1a7f37", fill: "rgba(26,127,55,.12)", width: 2 },
      { label: "failed", stroke: "#cf222e", width: 2 },
    ],
  }, data, box);
}

let overviewDelay = OVERVIEW_EVERY_MS;
let overviewTimer = null;

async function refreshOverview() {
  clearTimeout(overviewTimer);
  if (document.hidden || !$("#task-view").hidden) { // nobody looks at it: ask the API later
    overviewTimer = setTimeout(refreshOverview, OVERVIEW_EVERY_MS);
    return;
  }
  try {
    const stats = await api("GET", "/stats");
    renderLanes(stats.lanes);
    renderCounts(stats.counts, stats.counts_complete);
    renderChart(stats.throughput);
    setConnection(`updated ${new Date().toLocaleTimeString()}`);
    showAlert("");
    overviewDelay = OVERVIEW_EVERY_MS;
  } catch (error) {
    if (authProblem(error)) return;
    setConnection(`overview not updated: ${error.message}`);
    overviewDelay = Math.min(overviewDelay * 2, 60000); // back off while the API struggles
  }
  overviewTimer = setTimeout(refreshOverview, overviewDelay);
}

// ---------------------------------------------------------------- tasks list

const listing = { filters: {}, cursors: [null], page: 0, next: null };

function listPath(filters, cursor, limit = PAGE_SIZE) {
  const query = new URLSearchParams({ limit: String(limit) });
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  if (cursor) query.set("cursor", cursor);
  return `/tasks?${query}`;
}

function renderTasks(items) {
  const body = $("#tasks tbody");
  if (!items.length) {
    const row = el("tr");
    const cell = el("td", "No tasks match.", "muted");
    cell.colSpan = 8;
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(...items.map((task) => {
    const row = el("tr");
    row.dataset.taskId = task.task_id;
    const link = el("a", task.task_id.slice(0, 8));
    link.href = `#/tasks/${task.task_id}`;
    link.title = task.task_id;
    link.setAttribute("aria-label", `task ${task.task_id}`);
    const id = el("td");
    id.append(link);
    const status = el("td");
    status.append(statusBadge(task.status));
    status.className = "task-status";
    row.append(id, el("td", task.task_type), el("td", task.priority), status,
      el("td", `${task.attempts}/${task.max_attempts}`), el("td", progressText(task.progress)),
      el("td", when(task.created_at)), el("td", errorText(task.error), "error"));
    return row;
  }));
}

async function refreshTasks() {
  try {
    const page = await api("GET", listPath(listing.filters, listing.cursors[listing.page]));
    renderTasks(page.items);
    listing.next = page.next_cursor;
    $("#older").disabled = !page.next_cursor;
    $("#newer").disabled = listing.page === 0;
    $("#page-label").textContent = `page ${listing.page + 1}`;
  } catch (error) {
    if (!authProblem(error)) showAnswer(`Could not list tasks: ${error.message}`, true);
  }
}

function readFilters() {
  const form = new FormData($("#filters"));
  return {
    status: form.get("status") || "",
    task_type: String(form.get("task_type") || "").trim(),
    priority: form.get("priority") || "",
  };
}

async function redrive() {
  const filters = { ...readFilters(), status: "failed" };
  const failed = [];
  let cursor = null;
  try {
    do { // every failed task that matches, page after page (bounded: the API pages by 100)
      const page = await api("GET", listPath(filters, cursor, 100));
      failed.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && failed.length < 1000);
  } catch (error) {
    if (!authProblem(error)) showAnswer(`Could not list the failed tasks: ${error.message}`, true);
    return;
  }
  const which = [filters.task_type && `type ${filters.task_type}`, filters.priority && `priority ${filters.priority}`]
    .filter(Boolean).join(", ");
  if (!failed.length) {
    showAnswer(`No failed tasks${which ? ` with ${which}` : ""} to retry.`);
    return;
  }
  const sure = await confirmAction("Retry failed tasks",
    `Queue ${failed.length} failed task${failed.length === 1 ? "" : "s"}${which ? ` (${which})` : ""} again?`);
  if (!sure) { showAnswer("Nothing was retried."); return; }
  let done = 0;
  const refused = [];
  for (const task of failed) {
    try { await api("POST", `/tasks/${task.task_id}/retry`); done += 1; }
    catch (error) { refused.push(`${task.task_id.slice(0, 8)}: ${error.message}`); }
  }
  showAnswer(`Retried ${done} of ${failed.length} failed tasks.` + (refused.length ? ` Refused: ${refused.join("; ")}` : ""),
    refused.length > 0);
  refreshTasks();
}

// ---------------------------------------------------------------- one task

const watch = { id: null, timer: null, delay: 1000, last: "" };

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

function renderTask(task) {
  $("#task-title").textContent = `Task ${task.task_id}`;
  const fields = [
    ["Status", statusBadge(task.status)], ["Type", task.task_type], ["Priority", task.priority],
    ["Attempts", `${task.attempts} of ${task.max_attempts}`], ["Timeout", `${task.timeout_seconds} s`],
    ["Delay", `${task.delay_seconds} s`], ["Created", when(task.created_at)], ["Started", when(task.started_at)],
    ["Finished", when(task.finished_at)], ["Updated", when(task.updated_at)],
  ];
  if (task.started_at && task.finished_at) {
    fields.push(["Ran for", `${((new Date(task.finished_at) - new Date(task.started_at)) / 1000).toFixed(1)} s`]);
  }
  if (task.started_at) {
    fields.push(["Waited", `${((new Date(task.started_at) - new Date(task.created_at)) / 1000).toFixed(1)} s`]);
  }
  if (task.callback) {  // its webhook: how the last delivery went (the URL stays out of the page)
    const last = task.callback.deliveries[task.callback.deliveries.length - 1];
    fields.push(["Webhook", !last ? "no delivery yet"
      : last.delivered ? `delivered (attempt ${last.attempt}, HTTP ${last.status_code})`
      : `attempt ${last.attempt} failed: ${last.status_code ? `HTTP ${last.status_code}` : last.error}`]);
  }
  $("#task-fields").replaceChildren(...fields.flatMap(([name, value]) => {
    const dd = el("dd");
    dd.dataset.field = name.toLowerCase();
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    return [el("dt", name), dd];
  }));
  const percent = task.status === "completed" ? 100 : (task.progress ? task.progress.percent : 0);
  $("#task-progress").value = percent;
  $("#task-progress-text").textContent = progressText(task.progress) || `${Math.round(percent)}%`;
  $("#task-error").textContent = errorText(task.error) || "none";
  valueBlock($("#task-payload"), task.payload, task.payload_size, task.payload_url, "payload");
  valueBlock($("#task-result"), task.result, task.result_size, task.result_url, "result");
  $("#cancel-task").disabled = !["scheduled", "pending"].includes(task.status);
  $("#retry-task").disabled = !["failed", "cancelled"].includes(task.status);
}

async function pollTask() {
  clearTimeout(watch.timer);
  const id = watch.id;
  if (!id) return;
  try {
    const task = await api("GET", `/tasks/${id}`);
    if (watch.id !== id) return;
    renderTask(task);
    const fingerprint = JSON.stringify([task.status, task.progress, task.attempts]);
    // Live progress by polling with back-off: quick while the task changes, slower while it does not.
    watch.delay = fingerprint === watch.last ? Math.min(watch.delay * 1.5, 10000) : 1000;
    watch.last = fingerprint;
    if (FINISHED.includes(task.status)) return;
  } catch (error) {
    if (authProblem(error)) return;
    showAnswer(`Could not read task ${id}: ${error.message}`, true);
    watch.delay = Math.min(watch.delay * 2, 30000);
  }
  watch.timer = setTimeout(pollTask, watch.delay);
}

function openTask(id) {
  watch.id = id;
  watch.delay = 1000;
  watch.last = "";
  pollTask();
}

async function taskAction(kind) {
  const id = watch.id;
  const verb = kind === "cancel" ? "Cancel" : "Retry";
  const sure = await confirmAction(`${verb} task`, `${verb} task ${id}?`);
  if (!sure) { showAnswer(`Task ${id} was left as it was.`); return; }
  try {
    const task = kind === "cancel" ? await api("DELETE", `/tasks/${id}`) : await api("POST", `/tasks/${id}/retry`);
    showAnswer(`${kind === "cancel" ? "Cancelled" : "Retried"}: task ${id} is now ${task.status}.`);
    openTask(id);
  } catch (error) {
    if (!authProblem(error)) showAnswer(`${verb} refused: ${error.message}`, true);
  }
}

// ---------------------------------------------------------------- views and start

function route() {
  const match = location.hash.match(/^#\/tasks\/([0-9a-f-]{36})$/i);
  $("#overview-view").hidden = Boolean(match);
  $("#task-view").hidden = !match;
  if (match) {
    openTask(match[1]);
    $("#task-title").focus();
  } else {
    watch.id = null;
    clearTimeout(watch.timer);
    refreshTasks();
    if (!$("#app").hidden) refreshOverview();
  }
}

function showKeyForm(message) {
  $("#app").hidden = true;
  $("#key-form").hidden = false;
  $("#forget-key").hidden = true;
  showAlert(message || "");
  setConnection("API key needed");
  $("#api-key").focus();
}

function start() {
  $("#key-form").hidden = true;
  $("#app").hidden = false;
  $("#forget-key").hidden = AUTH !== "api_key";
  route(); // the overview, or one task's page
}

function wire() {
  $("#task-title").tabIndex = -1;
  window.addEventListener("hashchange", route);
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    listing.filters = readFilters();
    listing.cursors = [null];
    listing.page = 0;
    refreshTasks();
  });
  $("#older").addEventListener("click", () => {
    listing.cursors[listing.page + 1] = listing.next;
    listing.page += 1;
    refreshTasks();
  });
  $("#newer").addEventListener("click", () => { listing.page = Math.max(0, listing.page - 1); refreshTasks(); });
  $("#redrive").addEventListener("click", redrive);
  $("#cancel-task").addEventListener("click", () => taskAction("cancel"));
  $("#retry-task").addEventListener("click", () => taskAction("retry"));
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORE, $("#api-key").value.trim());
    $("#api-key").value = "";
    showAlert("");
    start();
  });
  $("#forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    clearTimeout(overviewTimer);
    showKeyForm("The key was forgotten.");
  });
  // The list follows the tasks while its first page is shown.
  setInterval(() => {
    if (!$("#app").hidden && $("#task-view").hidden && listing.page === 0 && !document.hidden) refreshTasks();
  }, OVERVIEW_EVERY_MS);
}

wire();
if (AUTH === "iam") {
  $("#iam-help").hidden = false;
  setConnection("sign in with `tasklane console`");
} else if (AUTH === "api_key" && !sessionStorage.getItem(KEY_STORE)) {
  showKeyForm();
} else {
  start();
}
