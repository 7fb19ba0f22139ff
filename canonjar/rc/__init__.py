"""Reproducible Central inputs: buildspec, .buildinfo and .buildcompare parsing (never executing anything)."""
