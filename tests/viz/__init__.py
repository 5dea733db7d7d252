"""Tests of nlhf_core.viz, one module per viz module."""
