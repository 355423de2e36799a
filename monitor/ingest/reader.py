"""Reading an input CSV by docs/report-semantics.md §1: header, line numbers, blank lines, bad rows.

A file is streamed: rows come out parsed, in batches, so memory stays bounded
whatever the file's size. Rows that break a rule are counted and the first
ones kept with their line number and reason; the others flow on.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from monitor.ingest.errors import FileRefusedError, RowError, RowRejectedError, TooManyRowsError

BATCH_ROWS = 20_000  # rows per batch handed to the database: bounded memory, few round trips
KEPT_ERRORS = 20  # row errors kept with their reason; the rest are only counted
STDIN = Path("-")  # the path that means standard input

Rule = Callable[[str], Any]
# (line, fields) → the staged row, or RowRejectedError / IndexError (a missing field).
RowParser = Callable[[int, list[str]], tuple[Any, ...]]
# (row numbers, each column's values) → the rows RowParser would give, or None
# when some value needs RowParser (an invalid one, an unusual spelling).
BatchParser = Callable[[Sequence[int], list[list[Any]]], list[tuple[Any, ...]] | None]
# (the file, bytes of it read so far, its size): called as batches go by, and
# once at the end with the whole size, when the database saves the rows.
FileProgress = Callable[[Path, int, int], None]


@dataclass(frozen=True)
class Column:
    """A required column: the header names it goes by (preferred first) and its value rule."""

    names: tuple[str, ...]
    rule: Rule
    # The column's name whose value, when empty, makes this one's empty too
    # (parsed as None, the rule not applied): a closed row's two times
    # (docs/report-semantics.md §10.1). Exactly one of the two empty is rejected.
    empty_with: str | None = None
    # The column's name whose value this one's must be greater than, both parsed
    # by this rule (an exclusion's end after its start, §10.3).
    after: str | None = None
    # The header may lack it, and its value may be empty (an exclusion's reason).
    optional: bool = False

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass
class RowErrors:
    """The rejected rows: how many, and the first `kept` of them."""

    count: int = 0
    first: list[RowError] = field(default_factory=list)
    kept: int = KEPT_ERRORS

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        if len(self.first) < self.kept:
            self.first.append(RowError(line, reason))


class RowInput(Protocol):
    """Rows to load, from a CSV (CsvInput) or from JSON objects (objects.ObjectsInput)."""

    @property
    def name(self) -> str:
        """What messages call the input."""
        ...

    @property
    def size(self) -> int:
        """In bytes; 0 when unknown."""
        ...

    @property
    def positions(self) -> Mapping[str, int]:
        """Column name → index in a row's fields."""
        ...

    def parsed_batches(
        self,
        parse: RowParser,
        errors: RowErrors,
        on_progress: FileProgress | None = None,
        batch_parse: BatchParser | None = None,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The valid rows, parsed, in batches; bad rows go to `errors`. An input that
        holds columns may parse a batch with `batch_parse` instead of `parse`."""
        ...


@dataclass
class CsvInput:
    """An open input CSV whose header has been read and matched."""

    name: str  # the file's path, <stdin> or "the request body": what messages call it
    binary: IO[bytes]
    size: int  # in bytes; 0 when unknown (a pipe)
    reader: Any  # csv.reader, positioned after the header
    positions: dict[str, int]  # column name → field index (none for an optional one absent)
    header: list[str]  # as written, trimmed
    columns: Sequence[Column]  # the source's, matched to the header
    max_rows: int | None = None  # more rows (valid or not) refuse the whole input

    def parsed_batches(  # noqa: C901 (every row of an import passes here: one frame, no calls)
        self,
        parse: RowParser,
        errors: RowErrors,
        on_progress: FileProgress | None = None,
        batch_parse: BatchParser | None = None,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The valid rows, parsed, in batches of BATCH_ROWS; bad rows go to `errors`.

        Rows come one at a time from a CSV: `parse` parses each (not batch_parse).
        Raises FileRefusedError when the file turns out not to be UTF-8, however far in,
        TooManyRowsError when it holds more than max_rows rows.
        """
        reader, width, batch_rows, size = self.reader, len(self.header), BATCH_ROWS, self.size
        if not size:  # a pipe: no progress to show
            on_progress = None
        batch: list[tuple[Any, ...]] = []
        valid = 0  # rows in the batches yielded
        last = reader.line_num  # the physical line the previous row ended on
        try:
            while True:
                try:
                    # The hot loop: every poll goes through it, so a blank line or
                    # a short row is told apart only once parsing has failed.
                    for fields in reader:
                        line, last = last + 1, reader.line_num
                        try:
                            if len(fields) > width:
                                raise RowRejectedError
                            batch.append(parse(line, fields))
                        except (RowRejectedError, IndexError):
                            if not _is_blank(fields):
                                errors.add(line, self._describe(fields))
                            continue
                        if len(batch) == batch_rows:
                            valid += batch_rows
                            self.check_rows(valid, errors)
                            yield batch
                            batch = []
                            if on_progress is not None:
                                on_progress(Path(self.name), self.binary.tell(), size)
                    break
                except csv.Error as error:  # e.g. a field over csv.field_size_limit()
                    errors.add(last + 1, f"malformed CSV: {error}")
                    last = reader.line_num
        except UnicodeDecodeError:
            raise FileRefusedError(_not_utf8_message(self.name, self.binary, last)) from None
        self.check_rows(valid + len(batch), errors)
        if batch:
            yield batch
        if on_progress is not None:
            on_progress(Path(self.name), size, size)

    def _describe(self, fields: list[str]) -> str:
        """Every reason the row is rejected (the slow path, for bad rows only)."""
        reasons = []
        if len(fields) > len(self.header):
            reasons.append(f"{len(fields)} fields where the header has {len(self.header)}")
        present = [column for column in self.columns if column.name in self.positions]
        values = {
            column.name: fields[self.positions[column.name]]
            for column in present
            if self.positions[column.name] < len(fields)
        }
        for column in present:
            index = self.positions[column.name]
            name = self.header[index]
            if index >= len(fields):
                reasons.append(f"{name} is missing ({len(fields)} fields)")
                continue
            reason = value_reason(column, name, fields[index], values)
            if reason is not None:
                reasons.append(reason)
        return "; ".join(reasons)

    def check_rows(self, valid: int, errors: RowErrors) -> None:
        check_row_limit(self.name, valid + errors.count, self.max_rows)


def value_reason(
    column: Column, name: str, value: str, values: Mapping[str, str] | None = None
) -> str | None:
    """Why `value`, written under `name`, breaks the column's rule; None if it does not.
    `values`: the row's values by column name (for a column that may be empty)."""
    value = value.strip()
    try:
        if not value and column.optional:
            return None
        if not value:
            partner = column.empty_with
            if partner is None:
                raise RowRejectedError("is empty")
            if (values or {}).get(partner, "").strip():
                raise RowRejectedError(
                    f"is empty while {partner} is not (both empty: closed, or neither)"
                )
            return None
        parsed = column.rule(value)
        if column.after is not None:
            _check_after(column, parsed, (values or {}).get(column.after, "").strip())
    except RowRejectedError as error:
        return f"{name} {error}"
    return None


def _check_after(column: Column, parsed: Any, earlier: str) -> None:
    """RowRejectedError when `parsed` is not after the `column.after` value `earlier`
    (parsed by the same rule); an invalid or empty one has its own reason."""
    try:
        earlier_parsed = column.rule(earlier)
    except RowRejectedError:
        return
    if not parsed > earlier_parsed:
        raise RowRejectedError(f"is not after {column.after}")


def check_row_limit(name: str, rows: int, max_rows: int | None) -> None:
    """TooManyRowsError once more than `max_rows` rows (valid or not) have been read."""
    if max_rows is not None and rows > max_rows:
        raise TooManyRowsError(
            f"{name}: more than {max_rows:,} rows, the most one load may hold "
            "(INGEST_MAX_ROWS); nothing was loaded"
        )


@contextmanager
def open_csv(path: Path, columns: Sequence[Column]) -> Iterator[CsvInput]:
    """The file (or standard input, for the path `-`) opened and its header matched;
    FileRefusedError if it cannot be loaded at all."""
    if path == STDIN:
        stdin = os.fdopen(os.dup(0), "rb")  # its own descriptor: closing it leaves fd 0 open
        with read_csv(stdin, columns, name="<stdin>", size=_regular_file_size(stdin)) as input_:
            yield input_
        return
    try:
        binary = path.open("rb")
    except OSError as error:
        raise FileRefusedError(f"{path}: cannot be read ({error.strerror})") from None
    with read_csv(binary, columns, name=str(path), size=_regular_file_size(binary)) as input_:
        yield input_


@contextmanager
def read_csv(
    binary: IO[bytes],
    columns: Sequence[Column],
    *,
    name: str,
    size: int,
    max_rows: int | None = None,
) -> Iterator[CsvInput]:
    """A binary stream as an input CSV (closed at the end); its header read and matched."""
    # utf-8-sig drops a byte-order mark; newline="" leaves line ends to csv,
    # which keeps a quoted newline inside its field and counts physical lines.
    with binary, io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        try:
            header = _header(name, reader)
        except UnicodeDecodeError:
            raise FileRefusedError(_not_utf8_message(name, binary, 0)) from None
        except csv.Error as error:
            raise FileRefusedError(f"{name}: the header is malformed CSV ({error})") from None
        positions = _positions(name, header, columns)
        yield CsvInput(name, binary, size, reader, positions, header, columns, max_rows)


def _regular_file_size(binary: IO[bytes]) -> int:
    status = os.fstat(binary.fileno())
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


def _header(input_name: str, reader: Any) -> list[str]:
    for fields in reader:
        if not _is_blank(fields):
            return [name.strip() for name in fields]
    raise FileRefusedError(f"{input_name}: the file is empty (no header row)")


def _positions(input_name: str, header: list[str], columns: Sequence[Column]) -> dict[str, int]:
    """Each column's field index: names matched case-insensitively, first one written wins.

    A header that lacks columns is refused naming all of them, with a hint when
    the file looks delimited by something other than commas.
    """
    positions = {}
    missing = []
    for column, index in zip(columns, matched_names(header, columns), strict=True):
        if index is not None:
            positions[column.name] = index
        elif not column.optional:
            missing.append(f"no {' or '.join(repr(name) for name in column.names)} column")
    if missing:
        written = ", ".join(repr(name) for name in header)
        raise FileRefusedError(
            f"{input_name}: the header has {', '.join(missing)} (it has {written})"
            f"{_delimiter_hint(header)}; the file is refused, nothing was loaded"
        )
    return positions


def matched_names(names: Sequence[str], columns: Iterable[Column]) -> list[int | None]:
    """Each column's index in `names` (a header's, or a JSON object's keys), None if
    absent: matched case-insensitively after trimming, the column's names in their
    order of preference, the first one written winning a tie."""
    index_of: dict[str, int] = {}
    for index, name in enumerate(names):
        index_of.setdefault(name.strip().lower(), index)
    matched = []
    for column in columns:
        found = [index_of[name.lower()] for name in column.names if name.lower() in index_of]
        matched.append(found[0] if found else None)
    return matched


def _delimiter_hint(header: list[str]) -> str:
    """A hint when the one field the header was read as holds another delimiter."""
    if len(header) != 1:
        return ""
    for delimiter, name in [(";", "semicolons"), ("\t", "tabs")]:
        if delimiter in header[0]:
            return f" — the values are separated by {name}; save the file as comma-separated CSV"
    return ""


def _is_blank(fields: list[str]) -> bool:
    """A line with nothing but spaces: not a row. (`,,` is a row, of empty values.)"""
    return len(fields) <= 1 and not (fields and fields[0].strip())


def _not_utf8_message(name: str, binary: IO[bytes], last_line: int) -> str:
    where = _first_undecodable(binary, last_line)
    return f"{name}: not UTF-8 text ({where}); the file is refused, nothing was loaded"


def _first_undecodable(binary: IO[bytes], last_line: int) -> str:
    """Where the first byte that is not UTF-8 is (the error path only: reads the input again).

    Lines are split at b"\\n", which is never part of a multi-byte character. A
    pipe cannot be read again: then only the last line read whole is known.
    """
    if not binary.seekable():
        return f"after line {last_line}"
    binary.seek(0)
    for number, raw in enumerate(binary, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return f"byte 0x{raw[error.start]:02x} on line {number}"
    return "it changed while being read"
