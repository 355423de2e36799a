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
batches, as (row number, value, …) tuples. A source with a batch parser (polls)
gets a batch's values a column at a time first: objects that all have the
columns' own keys, with values in the common spellings, skip the per-row
parsing (most of a big body's cost).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from monitor.ingest.errors import FileRefusedError, RowRejectedError
from monitor.ingest.reader import (
    BATCH_ROWS,
    BatchParser,
    Column,
    FileProgress,
    RowErrors,
    RowParser,
    check_row_limit,
    matched_names,
    value_reason,
)


@dataclass(frozen=True)
class NumberedItems:
    """Parsed JSON values and their row numbers (kept apart: no pair object per row)."""

    numbers: Sequence[int]  # 1-based positions in an array, or NDJSON line numbers
    values: Sequence[Any]


class BodyParseError(FileRefusedError):
    """The body is not JSON (or not NDJSON) at all: refused whole."""


def _json(data: bytes) -> Any:
    """The JSON value of `data` (orjson.JSONDecodeError if it is not JSON).

    orjson refuses integers beyond 64 bits, which JSON allows: such a body is
    read again by the standard library (only then: it is slower), so a row
    holding one is rejected with its reason, not the whole body.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        try:
            return json.loads(data, parse_constant=_not_json)
        except (ValueError, RecursionError):  # not JSON, NaN, or nested too deep
            raise error from None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def json_items(name: str, data: bytes) -> NumberedItems:
    """A JSON array's items, numbered from 1."""
    try:
        document = _json(data)
    except orjson.JSONDecodeError as error:
        raise BodyParseError(f"{name}: not JSON ({error}); nothing was loaded") from None
    if not isinstance(document, list):
        raise BodyParseError(
            f"{name}: a JSON array of objects is expected, not {_json_type(document)}; "
            "nothing was loaded"
        )
    return NumberedItems(range(1, len(document) + 1), document)


def ndjson_items(name: str, data: bytes) -> NumberedItems:
    """One JSON value a line, numbered by line; blank lines are not rows."""
    numbers, values = [], []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            try:
                values.append(_json(line))
            except orjson.JSONDecodeError as error:
                raise BodyParseError(
                    f"{name}: line {number} is not JSON ({error}); nothing was loaded"
                ) from None
            numbers.append(number)
    return NumberedItems(numbers, values)


@dataclass
class ObjectsInput:
    """Numbered JSON values as an input of rows: what the loaders read, as from a CSV."""

    name: str  # what messages call it ("the request body")
    items: NumberedItems
    columns: Sequence[Column]
    size: int  # the body's bytes, as a file's size: the poll loader's estimate of its rows
    max_rows: int | None = None

    def __post_init__(self) -> None:
        check_row_limit(self.name, len(self.items.values), self.max_rows)
        # The parser reads a row's fields in column order.
        self.positions = {column.name: index for index, column in enumerate(self.columns)}
        self._keys = [column.name for column in self.columns]

    def parsed_batches(
        self,
        parse: RowParser,
        errors: RowErrors,
        on_progress: FileProgress | None = None,
        batch_parse: BatchParser | None = None,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The valid rows, parsed, in batches of at most BATCH_ROWS; bad rows go to `errors`.

        Each BATCH_ROWS items are parsed by `batch_parse` if given and it can,
        otherwise row by row.
        """
        numbers, values = self.items.numbers, self.items.values
        for start in range(0, len(values), BATCH_ROWS):
            end = start + BATCH_ROWS
            batch = None
            if batch_parse is not None:
                batch = self._batch_parsed(numbers[start:end], values[start:end], batch_parse)
            if batch is None:
                batch = self._rows_parsed(numbers[start:end], values[start:end], parse, errors)
            if batch:
                yield batch

    def _batch_parsed(
        self, numbers: Sequence[int], items: Sequence[Any], batch_parse: BatchParser
    ) -> list[tuple[Any, ...]] | None:
        """The items parsed a column at a time, if each is an object with the columns'
        own keys (None otherwise, or if batch_parse cannot)."""
        try:
            columns = [[item[key] for item in items] for key in self._keys]
        except (KeyError, TypeError):  # a key missing or spelled otherwise; not an object
            return None
        return batch_parse(numbers, columns)

    def _rows_parsed(
        self, numbers: Sequence[int], items: Sequence[Any], parse: RowParser, errors: RowErrors
    ) -> list[tuple[Any, ...]]:
        batch = []
        for number, item in zip(numbers, items, strict=True):
            fields = self._fields(item)
            try:
                if fields is None:
                    raise RowRejectedError
                batch.append(parse(number, fields))
            except RowRejectedError:
                errors.add(number, self._describe(item))
        return batch

    def _fields(self, item: Any) -> list[str] | None:
        """The item's values in column order, if it is an object with a string for each."""
        try:
            fields = [item[key] for key in self._keys]  # the usual case: the columns' own names
        except (KeyError, TypeError):
            if not isinstance(item, dict):
                return None
            keys = _matched_keys(item, self.columns)
            if any(
                key is None and not c.optional for c, key in zip(self.columns, keys, strict=True)
            ):
                return None
            fields = ["" if key is None else item[key] for key in keys]
        return fields if all(type(value) is str for value in fields) else None

    def _describe(self, item: Any) -> str:
        """Every reason the row is rejected (the slow path, for bad rows only)."""
        if not isinstance(item, dict):
            return f"{_json_type(item)} where an object is expected"
        reasons = []
        keys = _matched_keys(item, self.columns)
        values = {
            column.name: item[key]
            for column, key in zip(self.columns, keys, strict=True)
            if key is not None and type(item[key]) is str
        }
        for column, key in zip(self.columns, keys, strict=True):
            if key is None:
                if not column.optional:
                    reasons.append(f"{column.name} is missing")
            elif type(item[key]) is not str:
                reasons.append(f"{key} is {_json_type(item[key])}, not a string")
            else:
                reason = value_reason(column, key, item[key], values)
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
