// Scheduled tasks (#/scheduled): due later than a lane message can wait; cancel them all in bulk.

import { $ } from "./core.js";
import { bulkAction } from "./bulk.js";
import { listView } from "./view-tasks.js";

export default listView({
  name: "scheduled",
  label: "Scheduled",
  path: "/scheduled",
  section: "#scheduled-view",
  columns: ["task", "type", "priority", "runs at", "created"],
  caption: "Tasks that start later (run_at), newest first. Those due within 15 minutes are pending already.",
  fixed: { status: "scheduled" },
  empty: "No scheduled tasks.",
  extra: {
    init(root, filters, refresh) {
      $(".bulk-cancel", root).addEventListener("click", () => {
        const f = filters();
        const which = [f.task_type && `of type ${f.task_type}`, f.priority && `in the ${f.priority} lane`].filter(Boolean);
        bulkAction("cancel", f, ["scheduled tasks", ...which].join(" "), refresh);
      });
    },
  },
});
