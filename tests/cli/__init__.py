"""Tests of the `nlhf` command line, one file per command module of `nlhf_core/cli`."""
