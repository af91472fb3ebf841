"""The simulated world tasklane runs in (see tests/simulation/simulation.py)."""
