"""Migrations: they build exactly the schema the models describe, and apply over existing rows."""

from __future__ import annotations


import asyncpg
from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from pgqueuer import AsyncpgDriver, Queries

from app import db
from app.jobs import QUEUE_TABLES

PG_TYPES = {
    "INT": ("integer", None),
    "BIGINT": ("bigint", None),
    "TEXT": ("text", None),
    "TIMESTAMPTZ": ("timestamp with time zone", None),
    "DATE": ("date", None),
    "BOOL": ("boolean", None),
    "JSONB": ("jsonb", None),
}


def _pg_type(sql_type: str) -> tuple[str, int | None]:
    if sql_type.startswith("VARCHAR("):
        return "character varying", int(sql_type[8:-1])
    return PG_TYPES[sql_type]  # a KeyError here: teach this test the new type


def _index(table: str, columns: tuple, unique: bool, partial: bool, method: str = "btree", opclass: str | None = None):
    """An index as the catalog describes it; opclass: the non-default operator class, if any."""
    return (table, tuple(columns), unique, partial, method, tuple(opclass for _ in columns))


def _expected_schema() -> dict[str, set]:
    """What the models declare: columns, indexes (columns, unique, partial, method, operator
    class) and foreign keys."""
    columns, indexes, foreign_keys = set(), set(), set()
    for model in Tortoise.apps[db.APP_LABEL].values():
        meta = model._meta
        table = meta.db_table
        for name, column in meta.fields_db_projection.items():
            field = meta.fields_map[name]
            sql_type = field.get_for_dialect("postgres", "SQL_TYPE")
            columns.add((table, column, *_pg_type(sql_type), field.null))
            if field.pk:
                indexes.add(_index(table, (column,), True, False))
            elif field.unique:
                indexes.add(_index(table, (column,), True, False))
        for fk_name in meta.fk_fields:
            fk = meta.fields_map[fk_name]
            foreign_keys.add((table, fk.source_field, fk.related_model._meta.db_table, fk.on_delete.value))
        for together in meta.unique_together:
            cols = tuple(meta.fields_db_projection.get(f, meta.fields_map[f].source_field if f in meta.fk_fields else f) for f in together)
            indexes.add(_index(table, cols, True, False))
        for index in meta.indexes:
            if isinstance(index, tuple):
                indexes.add(_index(table, index, False, False))
            else:
                indexes.add(
                    _index(
                        table,
                        index.fields,
                        False,
                        bool(getattr(index, "condition", None)),
                        method=(index.INDEX_TYPE or "btree").lower(),
                        opclass=getattr(index, "OPCLASS", None),  # e.g. TrigramIndex: gin_trgm_ops
                    )
                )
        for constraint in getattr(meta, "constraints", ()):
            indexes.add(_index(table, constraint.fields, True, bool(constraint.condition)))
    return {"columns": columns, "indexes": indexes, "foreign_keys": foreign_keys}


# Tables no Tortoise model describes: Tortoise's own migration log, and the job queue's tables,
# created by pgqueuer's own SQL (migration 0003) and checked against pgqueuer's declaration by
# test_the_job_queue_schema_is_what_the_installed_pgqueuer_declares instead.
NOT_MODELLED_TABLES = ["tortoise_migrations", *QUEUE_TABLES]

CATALOG_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, NULL), NULLIF(a.atttypmod - 4, -5), NOT a.attnotnull
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
  AND NOT a.attisdropped AND c.relname <> ALL($1::text[])
"""
CATALOG_INDEXES = """
SELECT t.relname, array_agg(a.attname ORDER BY k.n), ix.indisunique, ix.indpred IS NOT NULL, am.amname,
       array_agg(CASE WHEN opc.opcdefault THEN NULL ELSE opc.opcname END ORDER BY k.n)
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_am am ON am.oid = i.relam
CROSS JOIN LATERAL unnest(ix.indkey, ix.indclass) WITH ORDINALITY AS k(attnum, opclass, n)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
JOIN pg_opclass opc ON opc.oid = k.opclass
WHERE t.relnamespace = 'public'::regnamespace AND t.relname <> ALL($1::text[])
GROUP BY t.relname, ix.indexrelid, ix.indisunique, ix.indpred, am.amname
"""
CATALOG_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text,
       CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT'
                          WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
  AND c.conrelid::regclass::text <> ALL($1::text[])
"""


async def _catalog(url: str) -> dict[str, set]:
    conn = await asyncpg.connect(**db.credentials_from_url(url))
    try:
        catalog = {}
        for name, sql in [("columns", CATALOG_COLUMNS), ("indexes", CATALOG_INDEXES), ("foreign_keys", CATALOG_FOREIGN_KEYS)]:
            rows = await conn.fetch(sql, NOT_MODELLED_TABLES)
            catalog[name] = {tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in rows}
        return catalog
    finally:
        await conn.close()


async def test_models_have_no_changes_without_a_migration(server):
    """Every model change comes with a migration: the autodetector finds nothing to write."""
    config = db.tortoise_config("postgres://unused@127.0.0.1/unused")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    assert writers == [], f"pending model changes: {[w.name for w in writers]} (run tortoise makemigrations)"


async def test_migrated_database_matches_the_models_exactly(server, database_url):
    """The migrated database has exactly the columns, indexes and foreign keys the models declare.

    The autodetector alone is not enough: Tortoise 1.1 records a migration state that can differ
    from the SQL it ran (it dropped Meta.constraints and forward foreign keys in CreateModel).
    """
    expected = _expected_schema()
    actual = await _catalog(database_url)
    for part in ("columns", "indexes", "foreign_keys"):
        assert actual[part] == expected[part], (
            part,
            "in database only:", sorted(actual[part] - expected[part]),
            "in models only:", sorted(expected[part] - actual[part]),
        )


async def test_the_job_queue_schema_is_what_the_installed_pgqueuer_declares(database_url):
    """The queue tables our migrations install are exactly what the installed pgqueuer expects:
    its own upgrade planner finds nothing to change (after a pgqueuer upgrade, this fails until
    a migration runs `pgq sql upgrade`)."""
    conn = await asyncpg.connect(**db.credentials_from_url(database_url))
    try:
        plan = await Queries(AsyncpgDriver(conn)).plan_upgrade()
    finally:
        await conn.close()
    assert plan.statements == (), plan.statements


SEED_ROWS = """
INSERT INTO team (id, name, state, created_at) VALUES (1, 'Old team', 'ACTIVE', now());
INSERT INTO app_user (id, team_id, name, normalized_name, email, role, created_at)
    VALUES (1, 1, 'Old User', 'old user', 'old@example.com', 'ADMIN', now());
UPDATE team SET default_rep_id = 1;
INSERT INTO user_alias (team_id, user_id, name, normalized_name, created_at) VALUES (1, 1, 'Oldie', 'oldie', now());
INSERT INTO api_token (team_id, user_id, name, token_hash, scopes, created_at)
    VALUES (1, 1, 't', repeat('a', 64), '[]', now());
INSERT INTO missing_rep (id, team_id, name, normalized_name, date_found, leads_originally_assigned, status)
    VALUES (1, 1, 'Gone Rep', 'gone rep', now(), 1, 'MISSING');
INSERT INTO lead (id, team_id, external_id, status, assigned_user_id, missing_rep_id, created_at, updated_at)
    VALUES (1, 1, 'x-1', 'NEW_LEAD', 1, 1, now(), now());
INSERT INTO conversation (id, team_id, lead_id, state, assistant_may_reply, created_at)
    VALUES (1, 1, 1, 'ACTIVE', true, now());
INSERT INTO message (conversation_id, direction, body, created_at) VALUES (1, 'INBOUND', 'hi', now());
INSERT INTO mass_end_job (team_id, state, total, processed, runs, created_at) VALUES (1, 'COMPLETED', 1, 1, 1, now());
INSERT INTO audit_event (team_id, actor_id, action, details, created_at) VALUES (1, 1, 'PAUSE', '{}', now());
"""


async def test_every_migration_applies_over_existing_rows(scratch_url):
    """Rows written under the first migration survive every later migration."""
    

    config = db.tortoise_config(scratch_url, pool_max=1)
    async with TortoiseContext():
        await migrate(config=config, target=f"{db.APP_LABEL}.0001_initial")
    conn = await asyncpg.connect(**db.credentials_from_url(scratch_url))
    try:
        await conn.execute(SEED_ROWS)
        tables = [r[0] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'tortoise_migrations'"
        )]
        before = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
        assert all(before.values()), before
    finally:
        await conn.close()

    await db.apply_migrations(scratch_url)

    conn = await asyncpg.connect(**db.credentials_from_url(scratch_url))
    try:
        after = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
        pending = await conn.fetchval("SELECT count(*) FROM tortoise_migrations")
    finally:
        await conn.close()
    assert after == before
    assert pending >= 1
