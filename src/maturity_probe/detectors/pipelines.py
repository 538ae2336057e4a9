"""Detectors: pipelines (being written)."""
