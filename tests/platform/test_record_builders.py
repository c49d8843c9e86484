"""The generated record builders (app.records.build, app.gql.from_record) make exactly the object
the plain way does: the dataclass's own __init__ over the same values, enums converted from
their raw values, `values` overriding; generated rows, from dicts, asyncpg-like Records and
attribute sources."""

from __future__ import annotations

import dataclasses
import types
from datetime import datetime, timezone

import asyncpg
import strawberry
from strawberry.scalars import JSON
from hypothesis import given, settings
from hypothesis import strategies as st

from app import db, records
from app.audit.service import AuditRecord
from app.gql import from_record, page_edges
from app.missing_reps.graphql import MissingRepEdge, MissingRepResolutionEnum, MissingRepStatusEnum, MissingRepType
from app.missing_reps.listing import MissingRepRecord
from app.missing_reps.models import MissingRepResolution, MissingRepStatus

TEXT = st.text(max_size=8)
WHEN = st.datetimes(timezones=st.just(timezone.utc))
ROWS = st.fixed_dictionaries(
    {
        "id": st.integers(1, 2**31 - 1),
        "team_id": st.integers(1, 9),
        "name": TEXT,
        "normalized_name": TEXT,
        "email": st.none() | TEXT,
        "date_found": WHEN,
        "leads_originally_assigned": st.integers(0, 10**6),
        # A raw row holds the enum's value; a model holds the member.
        "status": st.sampled_from(list(MissingRepStatus)) | st.sampled_from([s.value for s in MissingRepStatus]),
        "resolution": st.none() | st.sampled_from([r.value for r in MissingRepResolution]) | st.sampled_from(list(MissingRepResolution)),
        "resolved_user_id": st.none() | st.integers(1, 99),
        "resolved_by_id": st.none() | st.integers(1, 99),
        "resolved_at": st.none() | WHEN,
        "reassignment_pending": st.booleans(),
        "leads_moved": st.integers(0, 99),
        "external_id": st.none() | TEXT,
    }
)


@strawberry.type
class CopiedRep:
    """A GraphQL type copied from its record (as most are): some of its fields, the id as an ID,
    the record itself in `record`."""

    id: strawberry.ID
    name: str
    email: str | None
    external_id: str | None
    date_found: datetime
    leads_originally_assigned: int
    status: MissingRepStatusEnum
    resolution: MissingRepResolutionEnum | None
    resolved_at: datetime | None
    leads_moved: int
    reassignment_pending: bool
    record: strawberry.Private[MissingRepRecord]


@strawberry.type
class CopiedRepEdge:
    cursor: str
    node: CopiedRep


@strawberry.type
class CopiedEvent:
    """A copied type with a field its record lacks, given or left to its default."""

    id: strawberry.ID
    action: str
    details: JSON
    created_at: datetime
    team_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]
    actor: str | None = None


LITERAL_ROW = {
    "id": 1, "team_id": 1, "name": "A", "normalized_name": "a", "email": None,
    "date_found": datetime(2026, 1, 1, tzinfo=timezone.utc), "leads_originally_assigned": 1, "status": "MISSING",
    "resolution": None, "resolved_user_id": None, "resolved_by_id": None, "resolved_at": None,
    "reassignment_pending": False, "leads_moved": 0, "external_id": None,
}


def expected(row: dict, **values) -> MissingRepRecord:
    """The plain way: the dataclass's __init__ over the converted values."""
    converted = dict(row)
    converted["status"] = MissingRepStatus(row["status"])
    if row["resolution"] is not None:
        converted["resolution"] = MissingRepResolution(row["resolution"])
    converted.update(values)
    return MissingRepRecord(**converted)


class FakeRecord:
    """Reads by key, as an asyncpg Record does, without being a dict."""

    def __init__(self, row: dict) -> None:
        self._row = row

    def __getitem__(self, key: str):
        return self._row[key]


def same(a, b) -> bool:
    return (
        type(a) is type(b)
        and dataclasses.astuple(a) == dataclasses.astuple(b)
        and all(type(x) is type(y) for x, y in zip(dataclasses.astuple(a), dataclasses.astuple(b)))
        and list(vars(a)) == list(vars(b))
    )


@settings(max_examples=300)
@given(ROWS, st.none() | TEXT)
def test_build_from_rows_and_attributes_is_the_dataclass_init(row, new_name):
    overrides = {"name": new_name} if new_name is not None else {}
    want = expected(row, **overrides)
    assert same(records.build(MissingRepRecord, row, **overrides), want)
    assert same(records.build(MissingRepRecord, types.SimpleNamespace(**row), **overrides), want)
    built = records.build(MissingRepRecord, row, **overrides)
    assert hash(built) == hash(want) and built == want
    with_unknown = {**overrides, "not_a_field": 1}
    try:
        records.build(MissingRepRecord, row, **with_unknown)
    except TypeError:
        pass
    else:  # pragma: no cover - the dataclass refuses an unknown field, so must the builder
        raise AssertionError("an unknown field was accepted")


def test_build_reads_asyncpg_records_by_key(monkeypatch):
    row = {
        "id": 1, "team_id": 2, "name": "n", "normalized_name": "n", "email": None,
        "date_found": datetime(2026, 1, 1, tzinfo=timezone.utc), "leads_originally_assigned": 3,
        "status": "MISSING", "resolution": None, "resolved_user_id": None, "resolved_by_id": None,
        "resolved_at": None, "reassignment_pending": False, "leads_moved": 0, "external_id": None,
    }
    monkeypatch.setattr(records, "_ROWS", (dict, FakeRecord))
    assert same(records.build(MissingRepRecord, FakeRecord(row)), expected(row))


@dataclasses.dataclass(frozen=True)
class WithPostInit:
    a: int
    b: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "b", self.a * 2)


def test_a_class_with_post_init_still_goes_through_its_init():
    assert records.build(WithPostInit, {"a": 2, "b": 0}).b == 4


@settings(max_examples=300)
@given(ROWS)
def test_from_record_copies_as_the_generic_loop_does(row):
    record = expected(row)
    want = {}
    for f in dataclasses.fields(CopiedRep):
        if f.init and f.name != "record" and hasattr(record, f.name):
            value = getattr(record, f.name)
            want[f.name] = strawberry.ID(str(value)) if f.name == "id" else value
    made = CopiedRep(**want, record=record)
    # A field `record` the record lacks holds the record itself, given or not.
    for got in (from_record(CopiedRep, record, record=record), from_record(CopiedRep, record)):
        assert vars(got) == vars(made)  # the same attributes and values (not filled in the same order)
        assert got.record is record and got.id == str(record.id)


@settings(max_examples=100)
@given(st.lists(ROWS, max_size=6))
def test_page_edges_are_the_edges_built_one_by_one(rows):
    pairs = [(f"cursor-{i}", expected(row)) for i, row in enumerate(rows)]
    got = page_edges(CopiedRepEdge, CopiedRep, pairs)
    made = [CopiedRepEdge(cursor=cursor, node=from_record(CopiedRep, record)) for cursor, record in pairs]
    assert [type(edge) for edge in got] == [CopiedRepEdge] * len(pairs)
    assert [(edge.cursor, vars(edge.node)) for edge in got] == [
        (edge.cursor, vars(edge.node)) for edge in made
    ]
    assert all(set(vars(edge)) == {"cursor", "node"} for edge in got)


@settings(max_examples=50)
@given(st.lists(ROWS, max_size=4))
def test_a_record_as_root_type_is_its_record(rows):
    """MissingRepType's root value is the record itself: every field it declares is one of the
    record's; from_record and page_edges give the record, and nothing may be given besides."""
    reps = [expected(row) for row in rows]
    assert all(from_record(MissingRepType, rep) is rep for rep in reps)
    edges = page_edges(MissingRepEdge, MissingRepType, [(f"c{i}", rep) for i, rep in enumerate(reps)])
    assert [(edge.cursor, edge.node) for edge in edges] == [(f"c{i}", rep) for i, rep in enumerate(reps)]
    assert all(edge.node is rep for edge, rep in zip(edges, reps))


def test_the_edges_of_a_record_as_root_type_are_still_checked_to_be_edges():
    rep = expected({**LITERAL_ROW})
    try:
        page_edges(MissingRepType, MissingRepType, [("c", rep)])
    except TypeError as error:
        assert "is not an edge" in str(error)
    else:  # pragma: no cover
        raise AssertionError("a type without cursor and node was taken for an edge")


def test_only_a_record_holding_every_field_stands_for_a_record_as_root_type():
    event = AuditRecord(id=1, team_id=1, actor_id=None, action="ACCOUNT_PAUSED", details={},
                        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    rep = expected({**LITERAL_ROW})
    for source, given_values in ((event, {}), (types.SimpleNamespace(id=1), {}), (rep, {"name": "given"})):
        try:
            from_record(MissingRepType, source, **given_values)
        except TypeError:
            pass
        else:  # pragma: no cover
            raise AssertionError(f"{type(source).__name__} with {given_values} stood for MissingRepType")


@settings(max_examples=100)
@given(st.integers(1, 2**31 - 1), st.none() | st.integers(1, 99), st.booleans())
def test_from_record_fills_defaults_as_init_does(event_id, actor_id, with_actor):
    event = AuditRecord(id=event_id, team_id=1, actor_id=actor_id, action="ACCOUNT_PAUSED", details={"a": 1},
                        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    given_values = {"actor": "someone"} if with_actor else {}
    got = from_record(CopiedEvent, event, **given_values)
    made = CopiedEvent(id=str(event_id), action=event.action, details=event.details, created_at=event.created_at,
                          team_id=1, actor_id=actor_id, **given_values)
    assert vars(got) == vars(made)


@dataclasses.dataclass(frozen=True)
class OwnInit:
    a: int
    b: int = 0

    def __init__(self, a: int, b: int = 0) -> None:  # a class's own __init__ is respected
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", a + b + 1)


def test_a_class_with_its_own_init_still_goes_through_it():
    assert records.build(OwnInit, {"a": 2, "b": 3}).b == 6
    assert records.fills_like_init(MissingRepRecord) and records.fills_like_init(CopiedRep)
    assert not records.fills_like_init(OwnInit) and not records.fills_like_init(WithPostInit)


ROW_SQL = """
SELECT * FROM (VALUES
  (1, 1, 'A', 'a', NULL::text, now(), 3, 'MISSING', NULL::text, NULL::int, NULL::int, NULL::timestamptz, false, 0, NULL::text),
  (2, 1, 'B', 'b', 'b@x.example', now() - interval '1 day', 0, 'IGNORED', NULL, NULL, NULL, NULL, false, 0, 'crm-2'),
  (3, 1, 'C', 'c', NULL, now(), 7, 'RESOLVED', 'MAPPED_TO_USER', 4, 5, now(), true, 2, NULL)
) AS t(id, team_id, name, normalized_name, email, date_found, leads_originally_assigned, status, resolution,
       resolved_user_id, resolved_by_id, resolved_at, reassignment_pending, leads_moved, external_id)
"""


async def test_build_all_reads_records_by_position_as_build_reads_them_by_key(server_url_base):
    """build_all over asyncpg Records (by position) against build over the same rows (by key),
    in the statement's column order and in another."""
    conn = await asyncpg.connect(**db.credentials_from_url(server_url_base))
    try:
        rows = await conn.fetch(ROW_SQL)
        shuffled = await conn.fetch(
            "SELECT external_id, status, id, leads_moved, name, team_id, date_found, normalized_name, email,"
            " leads_originally_assigned, resolution, resolved_user_id, resolved_by_id, resolved_at,"
            f" reassignment_pending FROM ({ROW_SQL}) q"
        )
        partial = await conn.fetch(f"SELECT id, name FROM ({ROW_SQL}) q")
    finally:
        await conn.close()
    for batch in (rows, shuffled):
        one_by_one = [records.build(MissingRepRecord, row) for row in batch]
        assert all(same(a, b) for a, b in zip(records.build_all(MissingRepRecord, batch), one_by_one))
        assert all(same(a, expected(dict(row))) for a, row in zip(one_by_one, batch))
        overridden = records.build_all(MissingRepRecord, batch, name="same")
        assert [r.name for r in overridden] == ["same"] * 3
    assert records.build_all(MissingRepRecord, []) == []
    try:
        records.build_all(MissingRepRecord, partial)
    except KeyError:
        pass
    else:  # pragma: no cover
        raise AssertionError("rows without the record's columns were accepted")


async def test_a_jsonb_column_read_as_text_is_decoded_for_a_dict_field(server_url_base):
    conn = await asyncpg.connect(**db.credentials_from_url(server_url_base))
    try:
        rows = await conn.fetch(
            "SELECT 1 AS id, 2 AS team_id, NULL::int AS actor_id, 'ACCOUNT_PAUSED' AS action,"
            """ '{"reason": "lunch", "n": [1, 2]}'::jsonb AS details, now() AS created_at"""
        )
    finally:
        await conn.close()
    (event,) = records.build_all(AuditRecord, rows)
    assert event.details == {"reason": "lunch", "n": [1, 2]}
    assert records.build(AuditRecord, dict(rows[0])).details == event.details
    assert records.build(AuditRecord, dict(rows[0]), details={"given": True}).details == {"given": True}


async def test_prefixed_columns_build_the_joined_tables_record(server_url_base):
    """build_all(cls, rows, prefix=) reads each field from prefix + its name: a row holding one
    table's columns and another's (of the same names) builds both."""
    conn = await asyncpg.connect(**db.credentials_from_url(server_url_base))
    try:
        rows = await conn.fetch(
            f"SELECT q.*, q.id + 100 AS other__id, q.team_id AS other__team_id, 'Other ' || q.name AS other__name,"
            " q.normalized_name AS other__normalized_name, q.email AS other__email, q.date_found AS other__date_found,"
            " 0 AS other__leads_originally_assigned, 'IGNORED' AS other__status, NULL::text AS other__resolution,"
            " NULL::int AS other__resolved_user_id, NULL::int AS other__resolved_by_id,"
            " NULL::timestamptz AS other__resolved_at, false AS other__reassignment_pending, 0 AS other__leads_moved,"
            f" NULL::text AS other__external_id FROM ({ROW_SQL}) q"
        )
    finally:
        await conn.close()
    plain = records.build_all(MissingRepRecord, rows)
    assert [r.id for r in plain] == [1, 2, 3] and [r.name for r in plain] == ["A", "B", "C"]
    others = records.build_all(MissingRepRecord, rows, prefix="other__")
    assert [(r.id, r.name, r.status, r.leads_originally_assigned) for r in others] == [
        (101, "Other A", MissingRepStatus.IGNORED, 0), (102, "Other B", MissingRepStatus.IGNORED, 0),
        (103, "Other C", MissingRepStatus.IGNORED, 0),
    ]


def test_page_edges_of_records_that_are_not_dataclasses():
    """Any object with the fields' attributes: copied the generic way, row by row, nothing of one
    row left for the next."""
    rows = [types.SimpleNamespace(**{**expected(row).__dict__}) for row in (
        {"id": 1, "team_id": 1, "name": "A", "normalized_name": "a", "email": None, "date_found": datetime(2026, 1, 1, tzinfo=timezone.utc),
         "leads_originally_assigned": 1, "status": "MISSING", "resolution": None, "resolved_user_id": None, "resolved_by_id": None,
         "resolved_at": None, "reassignment_pending": False, "leads_moved": 0, "external_id": None},
        {"id": 2, "team_id": 1, "name": "B", "normalized_name": "b", "email": "b@x.example", "date_found": datetime(2026, 1, 2, tzinfo=timezone.utc),
         "leads_originally_assigned": 2, "status": "IGNORED", "resolution": None, "resolved_user_id": None, "resolved_by_id": None,
         "resolved_at": None, "reassignment_pending": False, "leads_moved": 0, "external_id": "crm-2"},
    )]
    for _ in range(2):
        edges = page_edges(CopiedRepEdge, CopiedRep, [(f"c{r.id}", r) for r in rows])
        assert [(e.cursor, e.node.id, e.node.name, e.node.record) for e in edges] == [("c1", "1", "A", rows[0]), ("c2", "2", "B", rows[1])]
