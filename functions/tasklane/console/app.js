// The tasklane console: plain JavaScript modules on the public API, no build step.
//
// Each view is one module (view-*.js) and one <section> of index.html. A view module's default
// export is {name, label, section, match(path) -> params | null, init(), show(params, query), hide()};
// adding a view is a module, its section, and its line in VIEWS (the menu follows).

import {
  $, AUTH, KEY_STORE, clearAnswer, el, hooks, setConnection, showAlert, tickConnection,
} from "./core.js";
import failed from "./view-failed.js";
import overview from "./view-overview.js";
import scheduled from "./view-scheduled.js";
import schedules from "./view-schedules.js";
import task from "./view-task.js";
import taskTypes from "./view-task-types.js";
import tasks from "./view-tasks.js";
import workflow from "./view-workflow.js";
import workflows from "./view-workflows.js";

const VIEWS = [overview, tasks, scheduled, failed, schedules, workflows, taskTypes, task, workflow];
let current = null;

function parseHash() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  return { path: path || "/", query: new URLSearchParams(query || "") };
}

function route() {
  if ($("#app").hidden) return;
  const { path, query } = parseHash();
  let view = null;
  let params = null;
  for (const candidate of VIEWS) {
    params = candidate.match(path);
    if (params) { view = candidate; break; }
  }
  if (!view) { view = overview; params = {}; }
  if (current) current.hide();
  clearAnswer(); // the last action's banner belongs to the page it was done on
  $("#bulk-progress").hidden = true;
  for (const v of VIEWS) $(v.section).hidden = v !== view;
  for (const link of document.querySelectorAll("#menu a")) {
    if (link.dataset.view === view.name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  document.title = `${view.label || "Task"} · tasklane console`;
  current = view;
  view.show(params, query);
}

function showKeyForm(message) {
  if (current) current.hide();
  current = null;
  $("#app").hidden = true;
  $("#menu").hidden = true;
  $("#key-form").hidden = false;
  $("#forget-key").hidden = true;
  showAlert(message || "");
  setConnection("API key needed");
  $("#api-key").focus();
}

hooks.authRefused = (error) => {
  if (AUTH === "api_key") {
    sessionStorage.removeItem(KEY_STORE);
    showKeyForm(`The API key was refused (HTTP ${error.status}: ${error.message}). Check the key and enter it again.`);
  } else {
    showAlert(`The API refused the request (HTTP ${error.status}: ${error.message}). ` +
      "Check that your AWS credentials may call this API.");
  }
};

function start() {
  $("#key-form").hidden = true;
  $("#app").hidden = false;
  $("#menu").hidden = false;
  $("#forget-key").hidden = AUTH !== "api_key";
  route();
}

function wire() {
  const menu = $("#menu ul");
  for (const view of VIEWS.filter((v) => v.label)) {
    const item = el("li");
    const link = el("a", view.label);
    link.href = view.name === "overview" ? "#/" : `#/${view.name}`;
    link.dataset.view = view.name;
    item.append(link);
    menu.append(item);
  }
  for (const view of VIEWS) view.init();
  window.addEventListener("hashchange", route);
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORE, $("#api-key").value.trim());
    $("#api-key").value = "";
    showAlert("");
    start();
  });
  $("#forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    showKeyForm("The key was forgotten.");
  });
  setInterval(tickConnection, 1000);
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
