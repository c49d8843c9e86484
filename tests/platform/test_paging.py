"""Cursors: the encoder's fast path writes exactly what json.dumps writes."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from app.paging import _cursor_json, decode_cursor, encode_cursor, encode_cursors

VALUES = st.one_of(st.integers(), st.text(), st.text("abcAZ09 -_.:\"\\/\x7f\t"), st.booleans(), st.none(), st.floats())


@settings(max_examples=2000)
@given(st.lists(VALUES, max_size=5))
def test_cursor_json_is_json_dumps(values):
    """Whichever way it is written (orjson or json.dumps), the bytes are json.dumps's."""
    assert _cursor_json(tuple(values)) == json.dumps(values, separators=(",", ":")).encode()


@given(st.lists(st.one_of(st.integers(-(2**70), 2**70), st.characters(max_codepoint=0x7F), st.text(max_size=8)), max_size=4))
def test_cursor_json_of_ints_and_strings_is_json_dumps(values):
    """The orjson path's own cases: every ASCII character (DEL, quotes, control characters),
    ints on both sides of 64 bits, and any text."""
    assert _cursor_json(tuple(values)) == json.dumps(values, separators=(",", ":")).encode()


@settings(max_examples=1000)
@given(st.lists(VALUES, max_size=5))
def test_cursor_is_the_unpadded_urlsafe_base64_of_its_json(values):
    """The encoder's own base64 (without the base64 module's wrappers) against the module's."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    assert encode_cursor(*values) == base64.urlsafe_b64encode(raw).decode().rstrip("=")
    decoded = decode_cursor(encode_cursor(*values), "the list", len(values))
    assert json.dumps(decoded, separators=(",", ":")).encode() == raw  # NaN is not equal to itself


@settings(max_examples=1000)
@given(st.lists(VALUES, max_size=3), st.lists(st.lists(VALUES, max_size=5), max_size=4))
def test_a_pages_cursors_are_encode_cursor_of_each_key(leading, keys):
    assert encode_cursors(tuple(leading), [tuple(key) for key in keys]) == [encode_cursor(*leading, *key) for key in keys]


@settings(max_examples=1000)
@given(st.lists(st.text("ab", max_size=7), max_size=3), st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=5))
def test_cursors_ending_in_ints_are_encode_cursor(leading, ints):
    """The ints' own path (the tail of every page's cursors) under heads of every length, so that
    the head's base64 is cut at each offset within its 3-byte groups."""
    raw = json.dumps([*leading, *ints], separators=(",", ":")).encode()
    expected = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert encode_cursors(tuple(leading), [tuple(ints)]) == [encode_cursor(*leading, *ints)] == [expected]
