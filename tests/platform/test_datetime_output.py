"""DateTime's output (app.gql.serialize_datetime) is strawberry's, `value.isoformat()`, for every
value: orjson writes the UTC case, isoformat the rest."""

from __future__ import annotations

from datetime import date, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from app.gql import serialize_datetime
from app.schema import schema

OFFSETS = st.sampled_from([timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30)),
                           timezone(timedelta(seconds=30)), timezone(timedelta(0))])


@settings(max_examples=3000)
@given(st.datetimes(timezones=st.just(timezone.utc)) | st.datetimes(timezones=st.none() | OFFSETS))
def test_every_datetime_is_written_as_isoformat_writes_it(value):
    assert serialize_datetime(value) == value.isoformat()


def test_what_has_no_isoformat_fails_as_before():
    assert serialize_datetime(date(2026, 12, 1)) == "2026-12-01"
    try:
        serialize_datetime("2026-12-01")
    except AttributeError as error:
        assert "isoformat" in str(error)
    else:  # pragma: no cover
        raise AssertionError("a string was accepted as a datetime")


def test_the_schema_uses_it():
    assert schema._schema.type_map["DateTime"].serialize is serialize_datetime
