"""Detectors: quality (being written)."""
