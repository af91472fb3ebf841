// Failed and dead-lettered tasks (#/failed): retry every one of a filter in bulk, on the server.

import { $ } from "./core.js";
import { bulkAction } from "./bulk.js";
import { listView } from "./view-tasks.js";

export default listView({
  name: "failed",
  label: "Failed",
  path: "/failed",
  section: "#failed-view",
  columns: ["task", "type", "priority", "attempts", "finished", "error"],
  caption: "Newest first. A task its lane's dead-letter queue took shows the error DeadLettered.",
  fixed: { status: "failed" },
  empty: "No failed tasks.",
  extra: {
    init(root, filters, refresh) {
      $(".bulk-retry", root).addEventListener("click", () => {
        const f = filters();
        const which = [f.task_type && `of type ${f.task_type}`, f.priority && `in the ${f.priority} lane`].filter(Boolean);
        bulkAction("retry", f, ["failed tasks", ...which].join(" "), refresh);
      });
    },
  },
});
