"""Rows sent as JSON objects (docs/report-semantics.md §9): an array of them, or NDJSON.

An object is a CSV row whose header is its own keys: keys are matched to the
source's columns as a header's names are (case-insensitively, after trimming,
aliases in their order of preference, extra keys ignored), and every value
must be a string, for the same value rules and reasons as a file's fields.
A value that is not a string (a number, null, an object) rejects the row, as
an unreadable field would in a file: it is the sender's typing error in one
row, not a body that cannot be read. Row numbers are 1-based positions in
the array; in NDJSON, line numbers (blank lines are skipped, as in a CSV).

Valid rows flow to the loaders exactly as a file's do: the same parser, in
batches, as (row number, value, …) tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from monitor.ingest.errors import FileRefusedError, RowRejectedError
from monitor.ingest.reader import (
    BATCH_ROWS,
    Column,
    FileProgress,
    RowErrors,
    RowParser,
    check_row_limit,
    matched_names,
    value_reason,
)

NumberedItem = tuple[int, Any]  # (row number, a parsed JSON value)


class BodyParseError(FileRefusedError):
    """The body is not JSON (or not NDJSON) at all: refused whole."""


def json_items(name: str, data: bytes) -> list[NumberedItem]:
    """A JSON array's items, numbered from 1."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise BodyParseError(f"{name}: not JSON ({error}); nothing was loaded") from None
    if not isinstance(document, list):
        raise BodyParseError(
            f"{name}: a JSON array of objects is expected, not {_json_type(document)}; "
            "nothing was loaded"
        )
    return list(enumerate(document, start=1))


def ndjson_items(name: str, data: bytes) -> list[NumberedItem]:
    """One JSON value a line, numbered by line; blank lines are not rows."""
    items = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            try:
                items.append((number, orjson.loads(line)))
            except orjson.JSONDecodeError as error:
                raise BodyParseError(
                    f"{name}: line {number} is not JSON ({error}); nothing was loaded"
                ) from None
    return items


@dataclass
class ObjectsInput:
    """Numbered JSON values as an input of rows: what the loaders read, as from a CSV."""

    name: str  # what messages call it ("the request body")
    items: Sequence[NumberedItem]
    columns: Sequence[Column]
    size: int  # the body's bytes, as a file's size: the poll loader's estimate of its rows
    max_rows: int | None = None

    def __post_init__(self) -> None:
        check_row_limit(self.name, len(self.items), self.max_rows)
        # The parser reads a row's fields in column order.
        self.positions = {column.name: index for index, column in enumerate(self.columns)}
        self._keys = [column.name for column in self.columns]

    def parsed_batches(
        self, parse: RowParser, errors: RowErrors, on_progress: FileProgress | None = None
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The valid rows, parsed, in batches of BATCH_ROWS; bad rows go to `errors`."""
        batch: list[tuple[Any, ...]] = []
        for number, item in self.items:
            fields = self._fields(item)
            try:
                if fields is None:
                    raise RowRejectedError
                batch.append(parse(number, fields))
            except RowRejectedError:
                errors.add(number, self._describe(item))
                continue
            if len(batch) == BATCH_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch

    def _fields(self, item: Any) -> list[str] | None:
        """The item's values in column order, if it is an object with a string for each."""
        try:
            fields = [item[key] for key in self._keys]  # the usual case: the columns' own names
        except (KeyError, TypeError):
            if not isinstance(item, dict):
                return None
            keys = _matched_keys(item, self.columns)
            if None in keys:
                return None
            fields = [item[key] for key in keys]
        return fields if all(type(value) is str for value in fields) else None

    def _describe(self, item: Any) -> str:
        """Every reason the row is rejected (the slow path, for bad rows only)."""
        if not isinstance(item, dict):
            return f"{_json_type(item)} where an object is expected"
        reasons = []
        for column, key in zip(self.columns, _matched_keys(item, self.columns), strict=True):
            if key is None:
                reasons.append(f"{column.name} is missing")
            elif type(item[key]) is not str:
                reasons.append(f"{key} is {_json_type(item[key])}, not a string")
            else:
                reason = value_reason(column, key, item[key])
                if reason is not None:
                    reasons.append(reason)
        return "; ".join(reasons)


def _matched_keys(item: dict[str, Any], columns: Iterable[Column]) -> list[str | None]:
    """Each column's key in the object, matched as a CSV header's names are."""
    keys = list(item)
    return [None if index is None else keys[index] for index in matched_names(keys, columns)]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"{value} (a number)"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return repr(value)
