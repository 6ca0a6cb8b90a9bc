"""The `zhibiao` command: a click group on the app (api.cli.main), each group of commands in its own module,
registered there explicitly."""
from api.cli.main import cli, main

__all__ = ["cli", "main"]
