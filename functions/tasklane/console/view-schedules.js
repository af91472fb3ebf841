// Recurring schedules (#/schedules): when each fires next in its own time zone (and in UTC), edit its
// cron or rate, time zone and payload, pause or resume it, delete it.

import { $, api, authProblem, confirmAction, el, showAnswer } from "./core.js";

const EVERY_MS = 15000;
let timer = null;
let active = false;

const DAY = { weekday: "short", day: "numeric", month: "short" };
const CLOCK = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

// "Mon, Dec 7, 09:00 Europe/Paris (08:00 UTC)": in the zone the schedule is read in, then in UTC.
export function fireTime(iso, timeZone) {
  const moment = new Date(iso);
  const local = moment.toLocaleString(undefined, { ...DAY, ...CLOCK, timeZone });
  const utc = moment.toLocaleString(undefined, { ...CLOCK, timeZone: "UTC" });
  return timeZone === "UTC" ? `${local} UTC` : `${local} ${timeZone} (${utc} UTC)`;
}

function button(text, label, onClick) {
  const node = el("button", text);
  node.type = "button";
  node.setAttribute("aria-label", label);
  node.addEventListener("click", onClick);
  return node;
}

async function setPaused(schedule, paused) {
  try {
    await api("PATCH", `/schedules/${encodeURIComponent(schedule.name)}`, { paused });
    showAnswer(`Schedule ${schedule.name} ${paused ? "paused: it fires no more until resumed" : "resumed"}.`);
  } catch (error) {
    if (!authProblem(error)) showAnswer(`Could not ${paused ? "pause" : "resume"} ${schedule.name}: ${error.message}`, true);
  }
  refresh();
}

async function remove(schedule) {
  const sure = await confirmAction("Delete schedule",
    `Delete schedule ${schedule.name}? It stops firing; the tasks it submitted stay.`, "Delete");
  if (!sure) { showAnswer(`Schedule ${schedule.name} was kept.`); return; }
  try {
    await api("DELETE", `/schedules/${encodeURIComponent(schedule.name)}`);
    showAnswer(`Schedule ${schedule.name} deleted.`);
  } catch (error) {
    if (!authProblem(error)) showAnswer(`Could not delete ${schedule.name}: ${error.message}`, true);
  }
  refresh();
}

// What the edit form changed, as PATCH takes it: only the fields that differ from the schedule.
export function changes(schedule, form) {
  const when = form.when.trim();
  const rate = /^rate\(.*\)$/.test(when) || /^\d+ (minute|hour|day)s?$/.test(when);
  const bare = when.replace(/^(cron|rate)\((.*)\)$/, "$2").trim();
  const body = {};
  if (bare !== (rate ? schedule.rate : schedule.cron)) body[rate ? "rate" : "cron"] = bare;
  if (form.timezone.trim() !== schedule.timezone) body.timezone = form.timezone.trim();
  const payload = JSON.parse(form.payload.trim() || "{}");
  if (JSON.stringify(payload) !== JSON.stringify(schedule.task.payload || {})) body.task = { payload };
  return body;
}

async function edit(schedule) {
  const dialog = $("#schedule-edit");
  const form = dialog.querySelector("form");
  const problem = $("#schedule-edit-problem");
  $("#schedule-edit-title").textContent = `Edit schedule ${schedule.name}`;
  form.when.value = schedule.cron ? `cron(${schedule.cron})` : `rate(${schedule.rate})`;
  form.timezone.value = schedule.timezone;
  form.payload.value = JSON.stringify(schedule.task.payload || {}, null, 2);
  problem.textContent = "";
  const save = async (event) => {
    if (event.submitter?.value !== "save") return;
    event.preventDefault();
    let body;
    const fields = { when: form.when.value, timezone: form.timezone.value, payload: form.payload.value };
    try { body = changes(schedule, fields); } catch { problem.textContent = "The payload is not valid JSON."; return; }
    if (!Object.keys(body).length) { dialog.close(); showAnswer(`Schedule ${schedule.name} was kept as it was.`); return; }
    try {
      const edited = await api("PATCH", `/schedules/${encodeURIComponent(schedule.name)}`, body);
      dialog.close();
      const fires = edited.next_fire_times || [];
      showAnswer(`Schedule ${schedule.name} edited${fires.length ? `: next fires ${fireTime(fires[0], edited.timezone)}` : ""}.`);
      refresh();
    } catch (error) {
      if (authProblem(error)) { dialog.close(); return; }
      const named = (error.details || []).map((d) => `${d.field}: ${d.message}`).join("; ");
      problem.textContent = `Not saved: ${named || error.message}`;
    }
  };
  form.addEventListener("submit", save);
  dialog.addEventListener("close", () => form.removeEventListener("submit", save), { once: true });
  dialog.showModal();
}

function render(items) {
  const body = $("#schedules tbody");
  if (!items.length) {
    const row = el("tr");
    const cell = el("td", "No schedules. Create one with `tasklane schedules create` or POST /schedules.", "muted");
    cell.colSpan = 6;
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(...items.map((s) => {
    const row = el("tr");
    row.dataset.schedule = s.name;
    const fires = s.next_fire_times || [];
    const next = el("td", null, "fires");
    if (s.paused) next.textContent = "paused";
    else if (!fires.length) next.textContent = "never again";
    else {
      next.append(...fires.map((iso) => el("div", fireTime(iso, s.timezone))));
      const more = el("details");
      more.append(el("summary", "next five"));
      more.addEventListener("toggle", async () => {
        if (!more.open || more.dataset.loaded) return;
        try {
          const full = await api("GET", `/schedules/${encodeURIComponent(s.name)}`);
          more.dataset.loaded = "1";
          more.append(...(full.next_fire_times || []).map((iso) => el("div", fireTime(iso, s.timezone))));
        } catch (error) {
          if (!authProblem(error)) more.append(el("div", `could not read: ${error.message}`, "error"));
        }
      });
      next.append(more);
    }
    const actions = el("td");
    const buttons = el("span", null, "row-actions");
    actions.append(buttons);
    buttons.append(
      button("Edit", `edit ${s.name}`, () => edit(s)),
      s.paused ? button("Resume", `resume ${s.name}`, () => setPaused(s, false))
        : button("Pause", `pause ${s.name}`, () => setPaused(s, true)),
      button("Delete", `delete ${s.name}`, () => remove(s)),
    );
    const name = el("th");
    const tasks = el("a", s.name);
    tasks.href = `#/tasks?schedule=${encodeURIComponent(s.name)}`;
    tasks.title = `the tasks ${s.name} submitted`;
    name.append(tasks);
    row.append(name, el("td", s.cron ? `cron(${s.cron})` : `rate(${s.rate})`), el("td", s.timezone),
      el("td", s.task.task_type), next, actions);
    row.firstChild.scope = "row";
    return row;
  }));
}

async function refresh() {
  clearTimeout(timer);
  if (!active) return;
  try {
    const answer = await api("GET", "/schedules");
    if (active) render(answer.items);
  } catch (error) {
    if (!authProblem(error)) showAnswer(`Could not list schedules: ${error.message}`, true);
  }
  if (active) timer = setTimeout(refresh, EVERY_MS);
}

export default {
  name: "schedules",
  label: "Schedules",
  section: "#schedules-view",
  match: (path) => (path === "/schedules" ? {} : null),
  init() {},
  show() { active = true; refresh(); },
  hide() { active = false; clearTimeout(timer); },
};
