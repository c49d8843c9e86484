"""Cursor paging shared by every list: page sizes and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json

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
    raw = json.dumps(list(values), separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


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
