"""Row 13: durable writes (bench/durable.py; main has its options and what it measures).

- server: the constants, moto (frozen and thawed), the restore, the tree killed at once
- primary: `datasette serve` with the plugin, its config and metrics, one insert
- latency: part 1, insert latency at 1/10/50 writers, with and without durable-writes
- crash: part 2, the acknowledged rows a crash loses, per mode
- figures, report: the table cells, the tables and notes, the compact JSON
- main: the options, the run, the results files
"""
