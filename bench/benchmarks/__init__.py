"""The benchmarks, one module per row (bench/README.md says what each measures).

Launchers: bench/run (rows 1-12, benchmarks.run), bench/durable.py (row 13),
bench/follower_reads.py, bench/footprint.py. Every result goes to bench/results/.

- common/: what every benchmark shares (paths, processes, HTTP, moto, load, figures)
- context: bench/run's set-up and `Bench` (options, work directory, the servers)
- row01_launch … row11_membership: rows 1 to 11 (rows 2 and 3 are one module: one run)
- row12/: follower nodes; row13/: durable writes (bench/durable.py)
- follower_reads, footprint: the two one-run comparisons
- report/: bench/run's Markdown table, a function per row
- run: bench/run's options, the rows in order, and the results files
"""
