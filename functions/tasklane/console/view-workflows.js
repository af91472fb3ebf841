// Workflows (#/workflows): the caller's workflows, newest first, each linking to its tree.

import { $, api, authProblem, el, showAnswer, statusBadge, when } from "./core.js";

const PAGE = 20;
let next = null; // the cursor of the page after the last shown

function rowOf(w) {
  const row = el("tr");
  row.dataset.workflowId = w.workflow_id;
  const id = el("td");
  const link = el("a", w.workflow_id.slice(0, 8), "mono");
  link.href = `#/workflows/${w.workflow_id}`;
  link.title = w.workflow_id;
  link.setAttribute("aria-label", `workflow ${w.workflow_id}`);
  id.append(link);
  const status = el("td");
  status.append(statusBadge(w.status));
  row.append(id, status, el("td", w.total), el("td", w.on_failure), el("td", when(w.created_at)),
    el("td", when(w.finished_at)), el("td", w.error ? `${w.error.type}: ${w.error.message}` : "", "error"));
  return row;
}

async function load(append) {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (append && next) query.set("cursor", next);
  try {
    const answer = await api("GET", `/workflows?${query}`);
    const body = $("#workflows tbody");
    const rows = answer.workflows.map(rowOf);
    if (append) body.append(...rows);
    else if (rows.length) body.replaceChildren(...rows);
    else {
      const row = el("tr");
      const cell = el("td", "No workflows yet. Submit one with POST /workflows (a chain, group or chord).", "muted");
      cell.colSpan = 7;
      row.append(cell);
      body.replaceChildren(row);
    }
    next = answer.next_cursor;
    $("#workflows-more").hidden = !next;
  } catch (error) {
    if (!authProblem(error)) showAnswer(`Could not list workflows: ${error.message}`, true);
  }
}

export default {
  name: "workflows",
  label: "Workflows",
  section: "#workflows-view",
  match: (path) => (path === "/workflows" ? {} : null),
  init() { $("#workflows-more").addEventListener("click", () => load(true)); },
  show() { next = null; load(false); },
  hide() {},
};
