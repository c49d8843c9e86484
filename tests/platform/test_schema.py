"""schema.graphql is the exported schema: regenerate it with `strawberry export-schema`."""

from pathlib import Path

from strawberry.printer import print_schema

from app.schema import schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_matches_the_code():
    exported = print_schema(schema).strip()
    on_disk = (ROOT / "schema.graphql").read_text().strip()
    assert on_disk == exported, (
        "schema.graphql is stale: run `strawberry export-schema app.schema:schema -o schema.graphql`"
    )
