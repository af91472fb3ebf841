// Tasks (#/tasks?status=&task_type=&priority=&schedule=): the caller's tasks with filters kept in the URL, and
// a search by id. Also the list views that are one status of it (scheduled, failed): see listView.

import { $, api, authProblem, listPath, renderTaskRows, showAnswer, taskTable } from "./core.js";

const PAGE_SIZE = 20;
const EVERY_MS = 5000;
const FILTERS = ["status", "task_type", "priority", "schedule"]; // GET /tasks's filters, kept in the URL
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A paged listing of tasks in `section`: filters from the URL, Newer/Older pages, and the first page
// followed while it is shown. `fixed` filters are the view's own (a status) and not in the URL.
export function listView({ name, label, path, section, columns, caption, fixed = {}, empty, extra }) {
  const table = taskTable(columns, caption);
  const state = { filters: {}, cursors: [null], page: 0, next: null, timer: null, active: false, asked: 0 };
  const root = () => $(section);

  async function refresh() {
    clearTimeout(state.timer);
    if (!state.active) return;
    const asked = ++state.asked; // only the latest request's answer is shown (filters may change meanwhile)
    try {
      const filters = { ...state.filters, ...fixed };
      const page = await api("GET", listPath(filters, state.cursors[state.page], PAGE_SIZE));
      if (!state.active || asked !== state.asked) return;
      renderTaskRows(table, page.items, empty);
      state.next = page.next_cursor;
      $(".older", root()).disabled = !page.next_cursor;
      $(".newer", root()).disabled = state.page === 0;
      $(".page-label", root()).textContent = `page ${state.page + 1}`;
    } catch (error) {
      if (!authProblem(error)) showAnswer(`Could not list tasks: ${error.message}`, true);
    }
    if (state.page === 0 && !document.hidden) state.timer = setTimeout(refresh, EVERY_MS);
  }

  return {
    name, label, section,
    match: (p) => (p === path ? {} : null),
    init() {
      $(".table-slot", root()).append(table.node);
      $(".older", root()).addEventListener("click", () => {
        state.cursors[state.page + 1] = state.next;
        state.page += 1;
        refresh();
      });
      $(".newer", root()).addEventListener("click", () => { state.page = Math.max(0, state.page - 1); refresh(); });
      // The filters go into the URL: a filtered list can be bookmarked, shared and gone back to.
      const form = $("form.filters", root());
      if (form) form.addEventListener("submit", (event) => {
        event.preventDefault();
        const query = new URLSearchParams();
        for (const [key, value] of new FormData(form)) if (String(value).trim()) query.set(key, String(value).trim());
        const target = `#${path}${query.size ? `?${query}` : ""}`;
        if (location.hash === target) refresh(); else location.hash = target;
      });
      if (extra) extra.init(root(), () => ({ ...state.filters, ...fixed }), refresh);
    },
    show(params, query) {
      const filters = {};
      for (const key of FILTERS) if (query.get(key)) filters[key] = query.get(key);
      state.filters = filters;
      state.cursors = [null];
      state.page = 0;
      state.active = true;
      const form = $("form.filters", root());
      if (form) for (const field of form.elements) if (FILTERS.includes(field.name)) {
        field.value = filters[field.name] || "";
      }
      refresh();
    },
    hide() { state.active = false; clearTimeout(state.timer); },
  };
}

const tasks = listView({
  name: "tasks",
  label: "Tasks",
  path: "/tasks",
  section: "#tasks-view",
  columns: ["task", "type", "priority", "status", "attempts", "progress", "created", "error"],
  caption: "Newest first. Hover an id for all of it, or copy it.",
  extra: {
    init(root) {
      $("form.search", root).addEventListener("submit", (event) => {
        event.preventDefault();
        const id = String(new FormData(event.target).get("task_id") || "").trim();
        if (!UUID.test(id)) {
          showAnswer(`"${id}" is not a task id: paste all 36 characters (a table's copy button gives them).`, true);
          return;
        }
        location.hash = `#/tasks/${id.toLowerCase()}`;
      });
    },
  },
});

export default tasks;
