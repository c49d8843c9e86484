"""Bulk actions of the Missing Reps screen: ignore, restore, and accept the top suggestion, for
many reps in one call.

Each rep goes through the single-rep action (app.missing_reps.actions) in its own short
transaction, so the rules, audit events and lead moves are exactly those of Ignore, Restore and
Map to Rep, and the conditional `UPDATE ... WHERE status = ...` there decides races: of two bulk
calls naming the same rep, one changes it and the other reports it skipped. A refusal of one rep
never stops the others; the result says what happened to each id.

Accepting suggestions: a MISSING rep is mapped to its top suggested user when that user's score
is at least `min_score` and no other user shares the top score (a tie is AMBIGUOUS: nothing says
which of them the rep is). The preview runs the very same selection without mapping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from app.errors import AppError, ErrorCode, bad_input
from app.missing_reps import actions
from app.missing_reps.listing import MissingRepRecord, list_missing_reps, missing_reps_by_ids
from app.missing_reps.matches import suggested_matches
from app.missing_reps.models import MissingRepStatus
from app.paging import MAX_PAGE_SIZE
from app.teams import service as teams
from app.validation import id_number

# Most reps one call may name, and most MISSING reps an accept without ids looks at.
MAX_BULK_IDS = 1000


class SkipReason(str, Enum):
    NOT_FOUND = "NOT_FOUND"
    ALREADY_IGNORED = "ALREADY_IGNORED"
    NOT_IGNORED = "NOT_IGNORED"  # restore of a rep that is on the Missing Reps list
    IGNORED = "IGNORED"  # accept of an ignored rep: restore it first
    RESOLVED = "RESOLVED"
    NO_SUGGESTION = "NO_SUGGESTION"
    BELOW_MIN_SCORE = "BELOW_MIN_SCORE"
    AMBIGUOUS = "AMBIGUOUS"  # two or more users share the top score
    REFUSED = "REFUSED"  # any other refusal of the single-rep action (its message says why)


@dataclass(frozen=True)
class Skip:
    id: str  # as the caller sent it (it may not even be an id)
    reason: SkipReason
    message: str


@dataclass(frozen=True)
class BulkResult:
    changed: list[MissingRepRecord]
    skipped: list[Skip]


@dataclass(frozen=True)
class Proposal:
    rep: MissingRepRecord
    user: teams.UserRecord
    score: float


def _distinct_ids(ids: list[str]) -> list[str]:
    if not ids:
        raise bad_input("Name at least one missing rep.", field="ids")
    distinct = list(dict.fromkeys(str(i) for i in ids))
    if len(distinct) > MAX_BULK_IDS:
        raise bad_input(f"At most {MAX_BULK_IDS} missing reps at once; {len(distinct)} were sent.", field="ids")
    return distinct


def _not_found(raw_id: str) -> Skip:
    return Skip(raw_id, SkipReason.NOT_FOUND, "Missing rep was not found.")


def _skip_from_refusal(raw_id: str, error: AppError, action: str) -> Skip:
    """The single-rep action's refusal as a per-id skip (its message kept)."""
    if error.code is ErrorCode.NOT_FOUND:
        return Skip(raw_id, SkipReason.NOT_FOUND, error.message)
    status = error.extensions.get("status")
    if status == MissingRepStatus.RESOLVED.value:
        return Skip(raw_id, SkipReason.RESOLVED, error.message)
    if status == MissingRepStatus.IGNORED.value:
        reason = SkipReason.ALREADY_IGNORED if action == "ignore" else SkipReason.IGNORED
        return Skip(raw_id, reason, error.message)
    if status == MissingRepStatus.MISSING.value and action == "restore":
        return Skip(raw_id, SkipReason.NOT_IGNORED, error.message)
    return Skip(raw_id, SkipReason.REFUSED, error.message)


async def _each(team_id: int, actor_id: int | None, ids: list[str], action: str, act) -> BulkResult:
    changed: list[MissingRepRecord] = []
    skipped: list[Skip] = []
    for raw_id in _distinct_ids(ids):
        rep_id = id_number(raw_id)
        if rep_id is None:
            skipped.append(_not_found(raw_id))
            continue
        try:
            changed.append(await act(team_id, actor_id, rep_id))
        except AppError as refused:
            skipped.append(_skip_from_refusal(raw_id, refused, action))
    return BulkResult(changed=changed, skipped=skipped)


async def ignore_many(team_id: int, actor_id: int | None, ids: list[str]) -> BulkResult:
    """Ignore for each rep named: MISSING reps become IGNORED, the rest are skipped."""
    return await _each(team_id, actor_id, ids, "ignore", actions.ignore)


async def restore_many(team_id: int, actor_id: int | None, ids: list[str]) -> BulkResult:
    """Restore for each rep named: IGNORED reps go back to the list, the rest are skipped."""
    return await _each(team_id, actor_id, ids, "restore", actions.restore)


def _check_min_score(min_score: float) -> None:
    if not (math.isfinite(min_score) and 0 < min_score <= 1):
        raise bad_input("minScore must be more than 0 and at most 1.", field="minScore")


async def _candidates(team_id: int, ids: list[str] | None) -> tuple[list[MissingRepRecord], list[Skip]]:
    """The MISSING reps to consider: those named (others skipped), or the team's first
    MAX_BULK_IDS in name order."""
    if ids is None:
        reps: list[MissingRepRecord] = []
        after = None
        while len(reps) < MAX_BULK_IDS:
            page = await list_missing_reps(team_id, first=MAX_PAGE_SIZE, after=after)
            reps += [rep for _, rep in page.edges]
            if not page.has_next_page:
                break
            after = page.edges[-1][0]
        return reps[:MAX_BULK_IDS], []
    distinct = _distinct_ids(ids)
    numbers = {raw: id_number(raw) for raw in distinct}
    found = await missing_reps_by_ids(team_id, [n for n in numbers.values() if n is not None])
    reps, skipped = [], []
    for raw, number in numbers.items():
        rep = found.get(number) if number is not None else None
        if rep is None:
            skipped.append(_not_found(raw))
        elif rep.status is MissingRepStatus.IGNORED:
            skipped.append(Skip(raw, SkipReason.IGNORED, "This rep is ignored: restore it to the Missing Reps list first."))
        elif rep.status is MissingRepStatus.RESOLVED:
            skipped.append(Skip(raw, SkipReason.RESOLVED, "This rep is no longer missing."))
        else:
            reps.append(rep)
    return reps, skipped


async def propose_matches(team_id: int, min_score: float, ids: list[str] | None) -> tuple[list[Proposal], list[Skip]]:
    """What accepting suggestions would map (rep -> its top suggested user), and why the other
    reps would be skipped. The preview and the accept both come from here."""
    _check_min_score(min_score)
    reps, skipped = await _candidates(team_id, ids)
    suggestions = await suggested_matches(team_id, reps)
    proposals = []
    for rep in reps:
        ranked = suggestions.get(rep.id, [])
        if not ranked:
            skipped.append(Skip(str(rep.id), SkipReason.NO_SUGGESTION, "No user of the team looks like this rep."))
        elif ranked[0].score < min_score:
            skipped.append(
                Skip(str(rep.id), SkipReason.BELOW_MIN_SCORE, f"The best suggestion scores {ranked[0].score:.2f}.")
            )
        elif len(ranked) > 1 and ranked[1].score == ranked[0].score:
            tied = sum(1 for s in ranked if s.score == ranked[0].score)
            skipped.append(
                Skip(str(rep.id), SkipReason.AMBIGUOUS, f"{tied} users share the best score ({ranked[0].score:.2f}).")
            )
        else:
            proposals.append(Proposal(rep=rep, user=ranked[0].user, score=ranked[0].score))
    return proposals, skipped


async def accept_suggested_matches(
    team_id: int, actor_id: int | None, min_score: float, ids: list[str] | None
) -> BulkResult:
    """Map to Rep for every proposal of `propose_matches`, one rep at a time. A rep another
    call resolved (or ignored) meanwhile is skipped by Map to Rep's own conditional update."""
    proposals, skipped = await propose_matches(team_id, min_score, ids)
    changed = []
    for proposal in proposals:
        try:
            changed.append(await actions.map_to_user(team_id, actor_id, proposal.rep.id, proposal.user.id))
        except AppError as refused:
            skipped.append(_skip_from_refusal(str(proposal.rep.id), refused, "map"))
    return BulkResult(changed=changed, skipped=skipped)
