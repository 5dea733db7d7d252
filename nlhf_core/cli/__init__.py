"""The ``nlhf`` command line: one module per command, JSON output for scripts and reproducible runs."""
