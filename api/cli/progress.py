"""What a long command is doing, on stderr: one line per step with the time it took, and, while kb/ or
importers/ report through their `progress(done, total)` callback, a bar (or a running count when the total
is not known yet) on that same line.

The one display every long command uses (init, publish, import, reindex, backup, restore, cases import), so
they look alike. Shown only when stderr is a terminal and never with --json: a script reading the output
wants the result alone, and stdout only ever holds the result.
"""
from __future__ import annotations

import sys
import time

import click

BAR_WIDTH = 20
# a bar redrawn for every row of a 50,000-row import costs more than the import's own work on a slow
# terminal; ten frames a second look the same
REDRAW_SECONDS = 0.1


class Progress:
    """`step(what)` starts a line; calling the object with (done, total) advances its bar; `done()` (or
    leaving the `with` block) ends the line with the step's time."""

    def __init__(self, quiet: bool = False):
        self.shown = not quiet and sys.stderr.isatty()
        self.what: str | None = None
        self.unit = ""
        self.started = 0.0
        self.drawn_at = 0.0
        self.counted = ""

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.done()
        elif self.what is not None and self.shown:
            click.echo("", err=True)  # the error message that follows starts on a line of its own
            self.what = None

    def step(self, what: str, unit: str = "条") -> None:
        self.done()
        self.what, self.unit, self.counted = what, unit, ""
        self.started = time.monotonic()
        self._draw("")

    def __call__(self, done: int, total: int | None = None) -> None:
        """The callback kb/ and importers/ take; `total` is None (or smaller than `done`) while not yet known."""
        if not self.shown or self.what is None:
            return
        if total and total >= done:
            filled = BAR_WIDTH * done // total
            self.counted = f" [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total} {self.unit}"
        else:
            self.counted = f" {done} {self.unit}"
        now = time.monotonic()
        if now - self.drawn_at >= REDRAW_SECONDS or (total and done >= total):
            self.drawn_at = now
            self._draw(self.counted)

    def done(self) -> None:
        if self.what is not None and self.shown:
            self._draw(f"{self.counted}（{time.monotonic() - self.started:.1f} 秒）")
            click.echo("", err=True)
        self.what = None

    def _draw(self, tail: str) -> None:
        if self.shown:
            # \r and a line that only ever grows: each frame covers the one before
            click.echo(f"\r… {self.what}{tail}", err=True, nl=False)
