// What every view of the console shares: the API, DOM helpers, formatting, messages. Every value
// from the API is written with textContent, never as HTML.

export const AUTH = document.querySelector('meta[name="tasklane-auth"]').content; // iam | api_key | proxy
export const KEY_STORE = "tasklane.apiKey"; // sessionStorage: the key lives as long as the tab
// The API is where the page is: .../v1/console -> .../v1 (on the stack and behind `tasklane console`).
const API = location.pathname.replace(/\/console\/?$/, "");
export const FINISHED = ["completed", "failed", "cancelled"];
export const STATUSES = ["scheduled", "pending", "processing", "completed", "failed", "cancelled"];
export const LANES = ["high", "normal", "low"];

export const $ = (selector, root = document) => root.querySelector(selector);
export const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
};

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details; // a 422's [{field, message}]
  }
}

// ---------------------------------------------------------------- API calls

let lastAnswerAt = null; // when the API last answered: the header's "updated … ago"

export async function api(method, path, body) {
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
    throw new ApiError(answer.status, error.code || String(answer.status), message, error.details || null);
  }
  lastAnswerAt = Date.now();
  connectionNote = "";
  tickConnection();
  return data;
}

export const hooks = { authRefused: () => {} }; // set by app.js: what a refused key or credential does

export function authProblem(error) {
  if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) return false;
  hooks.authRefused(error);
  return true;
}

// ---------------------------------------------------------------- messages

export function showAlert(text) {
  const alert = $("#alert");
  alert.textContent = text;
  alert.hidden = !text;
}

// The banner of the last action: it belongs to the page it was done on, and goes with it.
export function showAnswer(text, bad = false) {
  const answer = $("#answer");
  answer.textContent = text;
  answer.classList.toggle("bad", bad);
  answer.hidden = false;
}

export function clearAnswer() {
  const answer = $("#answer");
  answer.textContent = "";
  answer.hidden = true;
}

let connectionNote = "connecting…";

export function setConnection(text) {
  connectionNote = text;
  tickConnection();
}

// "updated 4 s ago", ticking every second on every page, from the API's last answer.
export function tickConnection() {
  const line = $("#connection");
  if (lastAnswerAt === null || connectionNote) {
    line.textContent = connectionNote || "connecting…";
    return;
  }
  const seconds = Math.max(0, Math.round((Date.now() - lastAnswerAt) / 1000));
  line.textContent = `updated ${new Date(lastAnswerAt).toLocaleTimeString()} (${age(seconds)} ago)`;
  line.dataset.seconds = String(seconds);
}

export function confirmAction(title, text, yes = "Confirm") {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-yes").textContent = yes;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

// ---------------------------------------------------------------- formatting

export function age(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function when(iso, timeZone) {
  if (!iso) return "—";
  const options = { dateStyle: "short", timeStyle: "medium" };
  if (timeZone) options.timeZone = timeZone;
  return new Date(iso).toLocaleString(undefined, options);
}

export function statusBadge(status) { return el("span", status, `status status-${status}`); }

export function progressText(progress) {
  if (!progress) return "";
  return `${Math.round(progress.percent)}%` + (progress.message ? ` ${progress.message}` : "");
}

export function errorText(error) { return error ? `${error.type}: ${error.message}` : ""; }

export function bytes(size) {
  if (size === null || size === undefined) return "";
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

export function plural(count, word) { return `${count} ${word}${count === 1 ? "" : "s"}`; }

// ---------------------------------------------------------------- task tables

export function listPath(filters, cursor, limit) {
  const query = new URLSearchParams({ limit: String(limit) });
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  if (cursor) query.set("cursor", cursor);
  return `/tasks?${query}`;
}

// A task's id as a table shows it: the first 8 characters linking to its page, the full id on
// hover (title) and a button that copies it.
export function idCell(taskId) {
  const cell = el("td");
  const box = el("span", null, "task-id");
  const link = el("a", taskId.slice(0, 8));
  link.href = `#/tasks/${taskId}`;
  link.title = taskId;
  link.setAttribute("aria-label", `task ${taskId}`);
  const copy = el("button", "copy", "copy");
  copy.type = "button";
  copy.title = `Copy ${taskId}`;
  copy.setAttribute("aria-label", `copy id ${taskId}`);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(taskId);
      copy.textContent = "copied";
    } catch {
      copy.textContent = "copy failed";
    }
    setTimeout(() => { copy.textContent = "copy"; }, 1500);
  });
  box.append(link, copy);
  cell.append(box);
  return cell;
}

// The columns a task table may show; each view picks its own.
const CELLS = {
  task: (t) => idCell(t.task_id),
  type: (t) => el("td", t.task_type),
  priority: (t) => el("td", t.priority),
  status: (t) => { const c = el("td", null, "task-status"); c.append(statusBadge(t.status)); return c; },
  attempts: (t) => el("td", `${t.attempts}/${t.max_attempts}`),
  progress: (t) => el("td", progressText(t.progress)),
  created: (t) => el("td", when(t.created_at)),
  "runs at": (t) => el("td", when(t.run_at)),
  finished: (t) => el("td", when(t.finished_at)),
  error: (t) => el("td", errorText(t.error), "error"),
};

export function taskTable(columns, caption) {
  const table = el("table", null, "tasks");
  const head = el("thead");
  const row = el("tr");
  for (const name of columns) {
    const th = el("th", name[0].toUpperCase() + name.slice(1));
    th.scope = "col";
    row.append(th);
  }
  head.append(row);
  table.append(head, el("tbody"));
  const scroller = el("div", null, "scroll"); // a wide table scrolls inside itself, never the page
  scroller.append(table);
  const node = el("div");
  node.append(scroller);
  if (caption) node.append(el("p", caption, "muted note")); // under the box: read without scrolling
  return { node, table, columns };
}

export function renderTaskRows(view, items, empty = "No tasks match.") {
  const body = $("tbody", view.table);
  if (!items.length) {
    const row = el("tr");
    const cell = el("td", empty, "muted");
    cell.colSpan = view.columns.length;
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(...items.map((task) => {
    const row = el("tr");
    row.dataset.taskId = task.task_id;
    row.append(...view.columns.map((name) => CELLS[name](task)));
    return row;
  }));
}
