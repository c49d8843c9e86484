"""The GraphiQL page served to browsers on GET /graphql: produced here, in one call."""

from __future__ import annotations

from functools import cache

from strawberry.http.ides import get_graphql_ide_html


@cache
def graphiql_html() -> str:
    return get_graphql_ide_html(graphql_ide="graphiql")
