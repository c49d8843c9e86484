"""The team's users a page at a time, optionally searched: the Map to Rep picker's list.

Ordered by normalised name, then id, and keyset-paged on (normalized_name, id), so a user added
while someone pages never makes a page skip or repeat a row. A search matches a part of the
normalised name ("steph" finds "Stéphen Smith") or of the email; both are served by the pg_trgm
GIN indexes on app_user (LIKE '%…%' is one of their operators), the plain list by the
(team_id, normalized_name) index.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import db, paging, records
from app.errors import bad_input
from app.teams.service import UserRecord
from app.validation import clean_text, normalize_name

LIST_NAME = "the users list"
MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True)
class UserPage:
    edges: list[tuple[str, UserRecord]]  # (cursor, user)
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True)
class _Search:
    """A search in the two forms it is compared in; `key` identifies it inside cursors."""

    name: str  # normalised: letters, digits, single spaces
    email: str  # lower-cased, LIKE wildcards escaped

    @property
    def key(self) -> str:
        return self.name + "\n" + self.email


def _clean_search(search: str | None) -> _Search | None:
    text = clean_text(search, field="search", max_length=MAX_SEARCH_LENGTH)
    if text is None:
        return None
    if any(ord(c) < 32 for c in text):  # NUL cannot reach PostgreSQL text; other controls match nothing
        raise bad_input("search must not contain control characters.", field="search")
    email = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _Search(name=normalize_name(text), email=email)


def _decode_cursor(cursor: str, search: _Search | None) -> tuple[str, int]:
    search_key, name, user_id = paging.decode_cursor(cursor, LIST_NAME, 3)
    if search_key != (search.key if search else ""):
        raise bad_input("after is a cursor of another search: start again without it.", field="after")
    if type(name) is not str or type(user_id) is not int or not 0 < user_id < 2**31 or "\x00" in name:
        raise paging.malformed_cursor(LIST_NAME)
    return name, user_id


async def list_users(team_id: int, *, search: str | None = None, first: int | None = None, after: str | None = None) -> UserPage:
    limit = paging.page_size(first)
    term = _clean_search(search)
    params: list[object] = [team_id]
    where = ["team_id = $1"]
    if term is not None:
        matches = []
        if term.name:
            params.append(term.name)
            matches.append(f"normalized_name LIKE '%' || ${len(params)} || '%'")
        params.append(term.email)
        matches.append(f"email LIKE '%' || ${len(params)} || '%'")
        where.append(f"({' OR '.join(matches)})")
    if after is not None:
        name, user_id = _decode_cursor(after, term)
        params += [name, user_id]
        where.append(f"(normalized_name, id) > (${len(params) - 1}, ${len(params)})")
    params.append(limit + 1)
    rows = await db.connection().execute_query_dict(
        "SELECT id, team_id, name, normalized_name, email, phone, role, created_at FROM app_user "
        f"WHERE {' AND '.join(where)} ORDER BY normalized_name, id LIMIT ${len(params)}",
        params,
    )
    users = [
        (
            paging.encode_cursor(term.key if term else "", row["normalized_name"], row["id"]),
            records.build(UserRecord, row),
        )
        for row in rows[:limit]
    ]
    return UserPage(edges=users, has_next_page=len(rows) > limit, has_previous_page=after is not None)
