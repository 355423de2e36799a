"""What goes wrong with an input file: one bad row, or the whole file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """A rejected row: its physical line (the header is line 1) and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class RowRejectedError(ValueError):
    """Raised by a value rule; the message is the reason shown to the user."""


class FileRefusedError(Exception):
    """The whole file is refused (a required column is missing, not UTF-8): nothing is loaded.

    The message names the file and says why.
    """


class TooManyRowsError(FileRefusedError):
    """More rows than one load may hold (INGEST_MAX_ROWS): refused whole, nothing is loaded."""
