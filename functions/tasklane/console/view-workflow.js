// One workflow (#/workflows/<id>): its status and counts, and its tree (chain, group, chord) with
// each task's status linking to the task's page; followed until it ends.

import { $, api, authProblem, el, FINISHED, showAnswer, statusBadge, when } from "./core.js";

const EVERY_MS = 2000;
const watch = { id: null, timer: null };

function taskNode(task) {
  const item = el("li", null, "node node-task");
  item.dataset.taskId = task.task_id;
  const link = el("a", task.task_type || "task", "mono");
  link.href = `#/tasks/${task.task_id}`;
  link.title = task.task_id;
  link.setAttribute("aria-label", `task ${task.task_type || ""} ${task.task_id}`);
  item.append(statusBadge(task.status || "missing"), " ", link, el("span", ` ${task.task_id.slice(0, 8)}`, "muted mono"));
  return item;
}

function group(label, children, className) {
  const item = el("li", null, `node ${className}`);
  const list = el("ol", null, "tree");
  list.append(...children);
  item.append(el("span", label, "node-kind"), list);
  return item;
}

// One node of GET /workflows/{id}'s tree as a list item (nested lists for chains, groups, chords).
export function treeNode(node) {
  if (node.task) return taskNode(node.task);
  if (node.chain) return group(`chain: ${node.chain.length} steps, one after another`, node.chain.map(treeNode), "node-chain");
  if (node.group) return group(`group: ${node.group.length} at once`, node.group.map(treeNode), "node-group");
  const chord = node.chord;
  return group("chord", [
    group(`group: ${chord.group.length} at once`, chord.group.map(treeNode), "node-group"),
    group("then, with their results", [treeNode(chord.then)], "node-then"),
  ], "node-chord");
}

function render(w) {
  $("#workflow-title").textContent = `Workflow ${w.workflow_id}`;
  const counts = Object.entries(w.counts).filter(([name, n]) => name !== "total" && n)
    .map(([name, n]) => `${n} ${name}`).join(", ");
  const fields = [["Status", statusBadge(w.status)], ["Tasks", `${w.counts.total}${counts ? ` (${counts})` : ""}`],
    ["On failure", w.on_failure], ["Created", when(w.created_at)], ["Finished", when(w.finished_at)]];
  if (w.error) fields.push(["Error", `${w.error.type}: ${w.error.message}`]);
  $("#workflow-fields").replaceChildren(...fields.flatMap(([name, value]) => {
    const dd = el("dd");
    dd.dataset.field = name.toLowerCase().replace(" ", "-");
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    return [el("dt", name), dd];
  }));
  const root = el("ol", null, "tree");
  root.append(treeNode(w.tree));
  $("#workflow-tree").replaceChildren(root);
  const result = $("#workflow-result");
  if (w.result_url) {
    const link = el("a", "Download the result");
    link.href = w.result_url;
    link.rel = "noreferrer";
    result.replaceChildren(link);
  } else if (w.status === "completed") {
    result.replaceChildren(el("pre", JSON.stringify(w.result, null, 2), "value"));
  } else {
    result.replaceChildren(el("p", "none yet", "muted"));
  }
}

async function poll() {
  clearTimeout(watch.timer);
  const id = watch.id;
  if (!id) return;
  let finished = false;
  try {
    const workflow = await api("GET", `/workflows/${id}`);
    if (watch.id !== id) return;
    render(workflow);
    finished = FINISHED.includes(workflow.status);
  } catch (error) {
    if (authProblem(error)) return;
    showAnswer(`Could not read workflow ${id}: ${error.message}`, true);
  }
  if (watch.id === id && !finished) watch.timer = setTimeout(poll, EVERY_MS);
}

export default {
  name: "workflow",
  label: null, // reached from the list or a task's page
  section: "#workflow-view",
  match: (path) => {
    const found = path.match(/^\/workflows\/([0-9a-f-]{36})$/i);
    return found ? { id: found[1].toLowerCase() } : null;
  },
  init() { $("#workflow-title").tabIndex = -1; },
  show({ id }) {
    watch.id = id;
    $("#workflow-title").textContent = `Workflow ${id}`;
    $("#workflow-fields").replaceChildren();
    $("#workflow-tree").replaceChildren();
    poll();
    $("#workflow-title").focus();
  },
  hide() { watch.id = null; clearTimeout(watch.timer); },
};
