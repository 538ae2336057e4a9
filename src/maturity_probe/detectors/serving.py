"""Detectors: serving (being written)."""
