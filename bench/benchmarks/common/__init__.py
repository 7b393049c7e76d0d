"""What every benchmark shares, each thing once.

- paths: the checkout, the venvs, the binaries under test, bench/results/
- procs: environments, the process tree (/proc), RSS and CPU time, `Proc`
- net: free ports, HTTP GET and waits, replica files, polling until a condition
- s3: moto_server (start-up, bucket and keys, replica entries)
- load: wrk, or the Python fallback
- figures: medians and percentiles, and the Markdown table cells
- fixtures: the databases and config files the rows make
- system: logging, the machine's description and load, waiting for it to be idle
"""
