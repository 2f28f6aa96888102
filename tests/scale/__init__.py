"""The whole portal under load with faults (runs bench/scale/run.py in its own process)."""
