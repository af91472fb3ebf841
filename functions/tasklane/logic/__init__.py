"""The use cases: submit, read, change, run and recover tasks, over the data layer."""
