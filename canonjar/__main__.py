"""``python -m canonjar``: the same as the ``canonjar`` command."""

from .cli import run

run()
