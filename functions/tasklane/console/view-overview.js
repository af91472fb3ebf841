// The overview (#/): lanes, throughput of the last hour, the caller's counts, the latest tasks.

import {
  $, age, api, authProblem, el, listPath, renderTaskRows, setConnection, showAlert, statusBadge, taskTable,
} from "./core.js";

const EVERY_MS = 5000;
const LATEST = 10;
let chart = null;
let timer = null;
let delay = EVERY_MS;
let active = false;
const latest = taskTable(["task", "type", "priority", "status", "attempts", "progress", "created", "error"],
  "The latest tasks, newest first.");

function renderLanes(lanes) {
  $("#lanes tbody").replaceChildren(...lanes.map((lane) => {
    const row = el("tr");
    row.dataset.lane = lane.lane;
    row.append(el("th", lane.lane), el("td", lane.queued), el("td", lane.in_flight), el("td", lane.delayed),
      el("td", age(lane.oldest_age_seconds)), el("td", lane.concurrency), el("td", lane.dlq, lane.dlq > 0 ? "error" : ""),
      el("td", lane.dead_lettered_last_hour ?? 0, lane.dead_lettered_last_hour > 0 ? "error" : ""));
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

// With no pointer on the chart its legend shows the last minute, never "--".
function showLastMinute(u) {
  if (u.legend.idx === null || u.legend.idx === undefined) u.setLegend({ idx: u.data[0].length - 1 });
}

function renderChart(throughput) {
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const scope = throughput.scope === "stack" ? "all callers (CloudWatch metrics)" : "your tasks (read from the task table)";
  $("#throughput-summary").textContent =
    `Last hour: ${sum(throughput.completed)} completed, ${sum(throughput.failed)} failed — ${scope}. ` +
    "The scale is logarithmic above a few tasks a minute, so that one busy minute does not flatten the others.";
  $("#age-source").textContent = throughput.scope === "stack"
    ? "SQS's age of the oldest message (CloudWatch)" : "the age of your oldest pending task in the lane";
  const data = [throughput.minutes, throughput.completed, throughput.failed];
  const box = $("#chart");
  const width = Math.max(280, box.clientWidth || 600);
  if (chart) {
    chart.setData(data);
    if (Math.abs(chart.width - width) > 20) chart.setSize({ width, height: 220 });
    showLastMinute(chart);
    return;
  }
  chart = new uPlot({
    width, height: 220,
    // asinh: linear near zero (so empty minutes stay at 0), logarithmic beyond: a spike keeps the rest readable.
    scales: { y: { distr: 4, asinh: 1, range: (u, min, max) => [0, Math.max(5, max)] } },
    axes: [{}, { label: "tasks / min", values: (u, ticks) => ticks.map((v) => (Number.isInteger(v) && v >= 0 ? v : "")) }],
    series: [
      {},
      { label: "completed", stroke: "#1a7f37", fill: "rgba(26,127,55,.12)", width: 2 },
      { label: "failed", stroke: "#cf222e", width: 2 },
    ],
    hooks: { setLegend: [showLastMinute], ready: [showLastMinute] },
  }, data, box);
}

async function refresh() {
  clearTimeout(timer);
  if (!active) return;
  if (document.hidden) { timer = setTimeout(refresh, EVERY_MS); return; } // nobody looks: ask later
  try {
    const [stats, page] = await Promise.all([api("GET", "/stats"), api("GET", listPath({}, null, LATEST))]);
    if (!active) return;
    renderLanes(stats.lanes);
    renderCounts(stats.counts, stats.counts_complete);
    renderChart(stats.throughput);
    renderTaskRows(latest, page.items, "No tasks yet.");
    showAlert("");
    delay = EVERY_MS;
  } catch (error) {
    if (authProblem(error)) return;
    setConnection(`overview not updated: ${error.message}`);
    delay = Math.min(delay * 2, 60000); // back off while the API struggles
  }
  timer = setTimeout(refresh, delay);
}

export default {
  name: "overview",
  label: "Overview",
  section: "#overview-view",
  match: (path) => (path === "/" || path === "" ? {} : null),
  init() { $("#latest-tasks").append(latest.node); },
  show() { active = true; refresh(); },
  hide() { active = false; clearTimeout(timer); },
};
