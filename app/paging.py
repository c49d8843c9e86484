"""Cursor paging shared by every list: page sizes and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

import orjson

from app.errors import bad_input

_dumps = orjson.dumps

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def page_size(first: int | None) -> int:
    """`first` defaults to 50 and is capped at 100; 0 asks only for counts; below 0 is BAD_USER_INPUT."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise bad_input("first must be 0 or more.", field="first")
    return min(first, MAX_PAGE_SIZE)


def encode_cursor(*values: object) -> str:
    """An opaque cursor holding the keyset values of the last row seen."""
    return _base64(_cursor_json(values))


def encode_cursors(leading: tuple, keys: Iterable[tuple]) -> list[str]:
    """`[encode_cursor(*leading, *key) for key in keys]`: a page's cursors, its ordering (`leading`)
    written once and each row's key after it. A key of ints (the usual one: a sort key and an id)
    is formatted and encoded in the loop itself, without a call per row."""
    head = _cursor_json(leading)[:-1] + (b"," if leading else b"")
    # base64 writes each 3 bytes as 4 characters on their own: the head's whole groups once.
    cut = len(head) - len(head) % 3
    fixed, rest = _base64(head[:cut]), head[cut:]
    b2a, urlsafe, tails = binascii.b2a_base64, _URLSAFE, _INT_TAILS
    cursors: list[str] = []
    append = cursors.append
    for key in keys:
        n = len(key)
        if n == 2:
            ints = type(key[0]) is int and type(key[1]) is int
        elif n == 1:
            ints = type(key[0]) is int
        else:
            ints = 0 < n <= 4 and all(type(value) is int for value in key)
        if ints:  # bool is not int here: `%d` writes an int as json.dumps does, at any size
            append(fixed + b2a(rest + tails[n] % key, newline=False).translate(urlsafe).rstrip(b"=").decode())
        elif not key:
            append(encode_cursor(*leading))
        else:
            append(fixed + _base64(rest + _cursor_json(tuple(key))[1:]))
    return cursors


def _cursor_json(values: tuple) -> bytes:
    """`json.dumps(list(values), separators=(",", ":"))`, encoded. A few ints are formatted, and
    orjson writes the same bytes for ints and strings as long as its output is ASCII without DEL
    (which json.dumps escapes), at a fraction of the cost: a page encodes a cursor per row.
    Anything else (a float, a non-ASCII string, an int beyond 64 bits) takes json.dumps.
    tests/platform/test_paging.py."""
    raw = _ints_json(values, _INTS)
    if raw is not None:
        return raw
    for value in values:
        if type(value) is not int and type(value) is not str:
            break
    else:
        try:
            raw = _dumps(values)
        except TypeError:  # an int beyond 64 bits
            pass
        else:
            if raw.isascii() and b"\x7f" not in raw:
                return raw
    return json.dumps(list(values), separators=(",", ":")).encode()


def _ints_json(values: tuple, formats: dict[int, bytes]) -> bytes | None:
    """`values` written with formats[len(values)] when there is one and they are all ints (bool is
    not int here: `%d` writes an int as json.dumps does, at any size); else None."""
    written = formats.get(len(values))
    if written is None:
        return None
    for value in values:
        if type(value) is not int:
            return None
    return written % values


# The JSON of 1 to 4 ints, as a list and as a list's tail: a page's cursors end with its keys and an id.
_INT_TAILS = {n: b",".join([b"%d"] * n) + b"]" for n in range(1, 5)}
_INTS = {n: b"[" + tail for n, tail in _INT_TAILS.items()}


def _base64(raw: bytes) -> str:
    # base64.urlsafe_b64encode, unpadded, without its Python-level wrappers (one per row of a page).
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def decode_cursor(cursor: str, list_name: str, length: int) -> list:
    """The values `encode_cursor` packed; BAD_USER_INPUT for anything this list did not give out."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != length:
        raise malformed_cursor(list_name)
    return values


def malformed_cursor(list_name: str):
    return bad_input(f"after is not a cursor of {list_name}: start again without it.", field="after")
