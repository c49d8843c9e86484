"""Cursors: the encoder's fast path writes exactly what json.dumps writes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from app.paging import _plain_json

VALUES = st.one_of(st.integers(), st.text(), st.text("abcAZ09 -_.:\"\\/\x7f\t"), st.booleans(), st.none(), st.floats())


@settings(max_examples=2000)
@given(st.lists(VALUES, max_size=5))
def test_plain_cursor_json_is_json_dumps(values):
    fast = _plain_json(tuple(values))
    if fast is not None:
        assert fast == json.dumps(values, separators=(",", ":"))
