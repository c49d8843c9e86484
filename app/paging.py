"""Cursor paging shared by every list: page sizes and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable

from app.errors import bad_input

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
    return _base64(_plain_json(values) or _json(values))


def cursor_encoder(*leading: object) -> Callable[..., str]:
    """encode_cursor with its first values fixed (a list's ordering): `cursor_encoder(*a)(*b)` is
    `encode_cursor(*a, *b)`, with the fixed part written once per page instead of once per row."""
    head = (_plain_json(leading) or _json(leading))[:-1] + ("," if leading else "")

    def encode(*values: object) -> str:
        if not values:
            return encode_cursor(*leading)
        return _base64(head + (_plain_json(values) or _json(values))[1:])

    return encode


def _json(values: tuple) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def _base64(raw: str) -> str:
    # base64.urlsafe_b64encode, unpadded, without its Python-level wrappers (one per row of a page).
    return binascii.b2a_base64(raw.encode(), newline=False).translate(_URLSAFE).rstrip(b"=").decode()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _plain_json(values: tuple) -> str | None:
    """json.dumps of a list of ints and plain printable-ASCII strings, without the encoder (a page
    encodes a cursor per row); None for anything else. tests/platform/test_paging.py proves it."""
    parts = []
    for value in values:
        if type(value) is int:
            parts.append(str(value))
        elif type(value) is str and value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            parts.append(f'"{value}"')
        else:
            return None
    return f"[{','.join(parts)}]"


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
