"""Reading tasks from .jsonl and .json files as streams, in bounded memory.

A file is named by a local path or by any path object with an ``open()`` method, such as
``pathlib.Path`` or Airflow's ``ObjectStoragePath`` (s3://, gs://, file://, memory://, ...), so
the client can read object storage without depending on Airflow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any

from airflow_provider_toloka.client.errors import TolokaValidationError

#: A local path, or a path object that opens itself (``pathlib.Path``, ``ObjectStoragePath``).
FilePath = Any

_CHUNK = 1 << 20
_decoder = json.JSONDecoder()
_WHITESPACE = " \t\r\n"
_NUMBER_CHARS = frozenset("0123456789.eE+-")


def _open_text(path: FilePath) -> IO[str]:
    """Open a local path or a path object for reading text; a byte-order mark is skipped."""
    if isinstance(path, (str, os.PathLike)) and not hasattr(path, "open"):
        return open(path, encoding="utf-8-sig")
    return path.open("r", encoding="utf-8-sig")


def iter_jsonl(path: FilePath) -> Iterator[Any]:
    """Yield the JSON value of every non-blank line.

    :raises TolokaValidationError: naming the file and line of the first line that is not JSON.
    """
    with _open_text(path) as handle:
        # readline, not iteration: some object-storage file wrappers cannot be iterated line by line
        for line_number, line in enumerate(iter(handle.readline, ""), start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise TolokaValidationError(f"{path}, line {line_number}: not valid JSON ({exc})") from None


def iter_json_array(path: FilePath) -> Iterator[Any]:
    """Yield the items of a file holding one JSON array, reading it in chunks.

    Whitespace, items and numbers may span any number of chunks.

    :raises TolokaValidationError: naming the file and item index when the file is not a JSON array.
    """
    with _open_text(path) as handle:
        buffer, position, eof = "", 0, False
        buffer, position, eof = _next_token(handle, buffer, position, eof)
        if position >= len(buffer) or buffer[position] != "[":
            raise TolokaValidationError(f"{path}: expected a JSON array of tasks (or use a .jsonl file)")
        position, index = position + 1, 0
        while True:
            buffer, position, eof = _next_token(handle, buffer, position, eof)
            if position >= len(buffer):
                raise TolokaValidationError(f"{path}: the JSON array is not closed after item {index}")
            if buffer[position] == "]":
                return
            if index:
                if buffer[position] != ",":
                    raise TolokaValidationError(f"{path}: expected ',' or ']' after item {index - 1}")
                position += 1
            while True:
                buffer, position, eof = _next_token(handle, buffer, position, eof)
                try:
                    value, end = _decoder.raw_decode(buffer, position)
                except ValueError as exc:
                    if eof:
                        raise TolokaValidationError(f"{path}: item {index} is not valid JSON ({exc})") from None
                else:
                    # a number ending the buffer, or cut inside its fraction or exponent, may go on
                    number = isinstance(value, (int, float)) and not isinstance(value, bool)
                    if eof or (end < len(buffer) and not (number and buffer[end] in _NUMBER_CHARS)):
                        break
                buffer, position, eof = _refill(handle, buffer, position)
            yield value
            index += 1
            position = end


def _next_token(handle: Any, buffer: str, position: int, eof: bool) -> tuple[str, int, bool]:
    """Skip whitespace, reading more chunks as needed: the position of the next character, or the end at EOF."""
    while True:
        position = _skip(buffer, position)
        if position < len(buffer) or eof:
            return buffer, position, eof
        buffer, position, eof = _refill(handle, buffer, position)


def _skip(buffer: str, position: int) -> int:
    while position < len(buffer) and buffer[position] in _WHITESPACE:
        position += 1
    return position


def _refill(handle: Any, buffer: str, position: int) -> tuple[str, int, bool]:
    chunk = handle.read(_CHUNK)
    return buffer[position:] + chunk, 0, not chunk


def _exists(path: FilePath) -> bool:
    exists = getattr(path, "is_file", None)
    return bool(exists()) if callable(exists) else os.path.isfile(os.fspath(path))


def iter_task_file(path: FilePath) -> Iterator[Any]:
    """Tasks from a ``.jsonl`` (one per line) or ``.json`` (an array) file, streamed."""
    name = str(path)
    if not _exists(path):
        raise TolokaValidationError(f"Task file {name!r} does not exist")
    if name.endswith((".jsonl", ".ndjson")):
        return iter_jsonl(path)
    if name.endswith(".json"):
        return iter_json_array(path)
    raise TolokaValidationError(f"Task file {name!r}: use a .jsonl (one task per line) or .json (an array) file")


class TaskFile:
    """A tasks file that can be read any number of times, each pass streaming it anew.

    Give it to :meth:`TolokaClient.create_tasks`: being re-iterable, it is checked whole before
    the first request, then sent.

    :param path: a local path or a path object with ``open()`` (e.g. ``ObjectStoragePath``).
    """

    def __init__(self, path: FilePath) -> None:
        self.path = path
        iter_task_file(path)  # fail now on a missing file or an unknown extension

    def __repr__(self) -> str:
        return f"TaskFile({str(self.path)!r})"

    def __str__(self) -> str:
        return str(self.path)

    def __iter__(self) -> Iterator[Any]:
        return iter_task_file(self.path)


def is_reiterable(tasks: Iterable[Any]) -> bool:
    """True when iterating ``tasks`` again starts over (a list, a :class:`TaskFile`), not for a one-pass stream."""
    return iter(tasks) is not tasks
