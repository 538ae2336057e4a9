"""Detectors: mlcode (being written)."""
