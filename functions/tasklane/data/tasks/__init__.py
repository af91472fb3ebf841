"""The tasks table: its items and their codec (tasklane.data.tasks.codec), the conditional writes of a
task's lifecycle, its indexes, and the workflows it holds."""
