"""Progress of long commands (import, copy) on stderr: a bar on a terminal, and a line
every 10,000 rows otherwise, so a log file or a CI job gets a few lines, not a redrawn bar."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Final, TextIO

from tqdm import tqdm

EVERY: Final = 10_000


class Progress:
    def __init__(self, stream: TextIO | None = None, *, every: int = EVERY) -> None:
        self._stream = stream or sys.stderr
        self._as_bar = self._stream.isatty()
        self._every = every
        self._label = ""
        self._done = 0
        self._bar: Any = None  # tqdm, while one is drawn

    def note(self, message: str) -> None:
        """One line; above the bar when one is drawn."""
        if self._bar is not None:
            self._bar.write(message, file=self._stream)
        else:
            print(message, file=self._stream, flush=True)

    def count(self, label: str, done: int, total: int | None = None, *, unit: str = "row") -> None:
        """``done`` of ``total`` (None when unknown) so far, say "sites written"; a new
        label starts a new count."""
        if label != self._label:
            self._finish_bar()
            self._label, self._done = label, 0
            if self._as_bar:
                self._bar = tqdm(desc=label, total=total, unit=unit, file=self._stream)
        if self._bar is not None:
            self._bar.update(done - self._done)
        elif done // self._every > self._done // self._every:
            shown = f"{done}/{total}" if total is not None else f"{done}"
            print(f"  {shown} {label}", file=self._stream, flush=True)
        self._done = done

    def close(self) -> None:
        self._finish_bar()
        self._label = ""

    def _finish_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
