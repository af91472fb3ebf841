"""The Lambda entry points, one module per function (each is a template's Handler). Importing any of
them pauses the garbage collector until the function's first invocation (tasklane.coldstart)."""

from tasklane import coldstart

coldstart.pause_collection()
