"""Progress of a long operation on stderr, and the one line that ends it on stdout.

On a terminal the current step rewrites one line with a spinner ("waiting for 3 of 4 tasks to be
healthy"); elsewhere (CI logs, pipes) each new step is printed once. :meth:`Progress.done` prints what
happened and how long it took.
"""

from __future__ import annotations

import itertools
import sys
import time

import click


def elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m {seconds:02d}s"


class Progress:
    def __init__(self, *, quiet: bool = False):
        self.started = time.monotonic()
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._spinner = itertools.cycle("|/-\\")
        self._last: str | None = None

    def step(self, message: str) -> None:
        if self.quiet:
            return
        if self.tty:
            click.echo(f"\r\033[K{next(self._spinner)} {message}", nl=False, err=True)
        elif message != self._last:
            click.echo(f"  {message}", err=True)
        self._last = message

    def note(self, message: str) -> None:
        """A line that stays (a skipped environment, a hint)."""
        self._clear()
        click.echo(message, err=True)

    def output(self, line: str) -> None:
        """A line of what the operation produces (a task's output): stdout."""
        self._clear()
        click.echo(line)

    def _clear(self) -> None:
        if self.tty and self._last is not None:
            click.echo("\r\033[K", nl=False, err=True)
            self._last = None

    def done(self, message: str) -> None:
        self._clear()
        click.echo(f"{message} in {elapsed(time.monotonic() - self.started)}")
