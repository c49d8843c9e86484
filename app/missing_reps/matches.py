"""Suggested matches of listed reps: candidate users found by PostgreSQL, scored by
app.missing_reps.suggestions."""

from __future__ import annotations

from dataclasses import dataclass

from app.missing_reps import suggestions
from app.missing_reps.listing import MissingRepRecord
from app.missing_reps.models import MissingRepStatus
from app.teams import service as teams


@dataclass(frozen=True)
class Suggestion:
    user: teams.UserRecord
    score: float


async def suggested_matches(team_id: int, reps: list[MissingRepRecord]) -> dict[int, list[Suggestion]]:
    """Each rep's suggested users (see app.missing_reps.suggestions), in one query for all reps.

    A resolved rep has none: it is no longer missing.
    """
    result: dict[int, list[Suggestion]] = {rep.id: [] for rep in reps}
    people = {
        rep.id: suggestions.Person.of_rep(rep.name, rep.email)
        for rep in reps
        if rep.status is not MissingRepStatus.RESOLVED
    }
    queries = [
        teams.CandidateQuery(
            key=rep_id,
            name=person.normalized_name,
            last_name=suggestions.last_name(person),
            first_names=suggestions.first_names(person),
            email_local_parts=suggestions.email_searches(person),
        )
        for rep_id, person in people.items()
    ]
    if not queries:
        return result
    candidates = await teams.similar_users(team_id, queries, per_key=suggestions.CANDIDATES_PER_REP)
    for rep_id, person in people.items():
        users = {user.id: user for user, _ in candidates[rep_id]}
        compared = {
            user.id: suggestions.Person(normalized_name=normalized, email=user.email)
            for user, normalized in candidates[rep_id]
        }
        result[rep_id] = [
            Suggestion(user=users[s.user_id], score=s.score) for s in suggestions.rank(person, compared)
        ]
    return result

