// Task types (#/task-types): every type the caller may submit (the built-ins, then their own), where
// each runs, how, its defaults and its payload's JSON Schema. A target's secrets never show: a URL
// is shown without its userinfo, query string or fragment.

import { $, api, authProblem, el, plural, showAnswer } from "./core.js";

const KEEP_MS = 60000; // the types change rarely: a task page reuses the list for a minute
let cached = null; // {at, items}

// Every type, from GET /task-types (read again after a minute).
export async function taskTypes() {
  if (cached && Date.now() - cached.at < KEEP_MS) return cached.items;
  const answer = await api("GET", "/task-types");
  cached = { at: Date.now(), items: answer.items };
  return answer.items;
}

// A URL without what may be a secret: "https://host/path (query hidden)".
export function safeUrl(text) {
  let url;
  try { url = new URL(text); } catch { return "(a URL that does not parse)"; }
  const hidden = [url.username || url.password ? "credentials" : "", url.search ? "query" : "", url.hash ? "fragment" : ""]
    .filter(Boolean);
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  return hidden.length ? `${shown} (${hidden.join(", ")} hidden)` : shown;
}

export function targetText(type) {
  if (!type.target) return "runs in tasklane";
  if (type.target.url) return safeUrl(type.target.url);
  if (type.target.lambda) return type.target.lambda; // a function ARN: no secret in it
  return "—";
}

function defaults(type) {
  const parts = [`priority ${type.priority}`, `timeout ${type.timeout_seconds} s`, plural(type.max_attempts, "attempt")];
  if (type.rate_limit) parts.push(`rate ${type.rate_limit}`);
  if (type.heartbeat_seconds) parts.push(`heartbeat ${type.heartbeat_seconds} s`);
  return parts.join(", ");
}

function schemaCell(type) {
  const cell = el("td", null, "schema");
  const box = el("details");
  box.append(el("summary", "payload schema"), el("pre", JSON.stringify(type.payload_schema, null, 2), "value"));
  cell.append(box);
  return cell;
}

function render(items) {
  const body = $("#task-types tbody");
  body.replaceChildren(...items.map((type) => {
    const row = el("tr");
    row.dataset.taskType = type.name;
    const name = el("th", type.name);
    name.scope = "row";
    if (type.description) name.append(el("div", type.description, "muted description"));
    const kind = el("td");
    kind.append(el("span", type.kind, `kind kind-${type.kind}`));
    row.append(name, kind, el("td", targetText(type), "target"), el("td", type.mode),
      el("td", defaults(type), "defaults"), schemaCell(type));
    return row;
  }));
}

export default {
  name: "task-types",
  label: "Task types",
  section: "#task-types-view",
  match: (path) => (path === "/task-types" ? {} : null),
  init() {},
  async show() {
    cached = null; // the page reads them afresh
    try {
      render(await taskTypes());
    } catch (error) {
      if (!authProblem(error)) showAnswer(`Could not list the task types: ${error.message}`, true);
    }
  },
  hide() {},
};
