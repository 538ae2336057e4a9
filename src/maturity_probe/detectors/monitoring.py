"""Detectors: monitoring (being written)."""
