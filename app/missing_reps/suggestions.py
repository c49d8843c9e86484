"""Suggested matches: which users of the team a missing rep probably is, with a score in [0, 1].

Names are compared in normalised form (app.validation.normalize_name), split into first name and
last name (the first and the last word):

    first(a, b) = 1            same first name
                  0.9          nicknames of each other in the `nicknames` dataset (Steve ~ Stephen,
                               Bill ~ William), or nicknames of one same name (Bill ~ Will)
                  0.8          one is the other's initial (S ~ Stephen)
                  ratio(a, b)² otherwise (rapidfuzz's normalised Indel similarity, squared:
                               one letter apart is a typo in "Stephan" but another person
                               in "Mark" / "Mary")
    last(a, b)  = best ratio of one name's last word with a word after the other's first name
                  (middle names, double-barrelled names: Kowalski ~ Kowalski-Brown)
    pair(a, b)  = (first(a, b) + last(a, b)) / 2, or ratio(a, b) when either name is one word
    N = 0.9 * max(pair(rep, user), 0.95 * pair(rep with its last word first, user))
        + 0.1 * token_sort_ratio(rep, user)            (order swaps: "Smith Stephen")
    E = ratio of the email local parts, letters and digits only (0 unless both have an email)
    score = max(N, (N + E) / 2)                        (an email can only help)

A user is suggested when score >= THRESHOLD (0.85); at most MAX_SUGGESTIONS (5), best first.
PostgreSQL first narrows the team's users to a bounded candidate list (CANDIDATES_PER_REP) with
its trigram indexes: names similar to the rep's (pg_trgm `%`), names containing the rep's last
name (`<%`; those whose first name is a nickname equivalent of the rep's ranked first), emails
containing the rep's email local part. No rep ever loads every user of a large team; this
module scores those candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from nicknames import NickNamer
from rapidfuzz import fuzz

from app.validation import alphanumerics, normalize_name

THRESHOLD = 0.85
MAX_SUGGESTIONS = 5
# Candidates PostgreSQL returns per rep (best trigram similarity first) for scoring here.
CANDIDATES_PER_REP = 25

NICKNAME_SIMILARITY = 0.9
INITIAL_SIMILARITY = 0.8
SWAPPED_ORDER_FACTOR = 0.95

_NICKNAMES = NickNamer()


@dataclass(frozen=True)
class Person:
    """A name and maybe an email, as compared: the rep's or a candidate user's."""

    normalized_name: str
    email: str | None = None

    @classmethod
    def of_rep(cls, name: str, email: str | None) -> Person:
        # An integration that sends only an email names the rep by it: compare its local part
        # ("stephen.smith@crm" -> "stephen smith") rather than the domain's words.
        if "@" in name:
            name = name.split("@", 1)[0]
        return cls(normalized_name=normalize_name(name), email=email)


@lru_cache(maxsize=8192)
def name_equivalents(first_name: str) -> frozenset[str]:
    """The first name, its nicknames, its canonical names, and their other nicknames."""
    canonicals = _NICKNAMES.canonicals_of(first_name)
    related = {first_name} | _NICKNAMES.nicknames_of(first_name) | canonicals
    for canonical in canonicals:
        related |= _NICKNAMES.nicknames_of(canonical)
    return frozenset(related)


def _ratio(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100


def first_name_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if b in name_equivalents(a) or a in name_equivalents(b):
        return NICKNAME_SIMILARITY
    if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
        return INITIAL_SIMILARITY
    return _ratio(a, b) ** 2


def _last_name_similarity(a: list[str], b: list[str]) -> float:
    return max(
        max(_ratio(a[-1], word) for word in b[1:]),
        max(_ratio(word, b[-1]) for word in a[1:]),
    )


def _pair(a: list[str], b: list[str]) -> float:
    if len(a) < 2 or len(b) < 2:
        return _ratio(" ".join(a), " ".join(b))
    return (first_name_similarity(a[0], b[0]) + _last_name_similarity(a, b)) / 2


def name_score(a: str, b: str) -> float:
    """Similarity of two normalised names in [0, 1]; 1 only for the same name."""
    if not a or not b:
        return 0.0
    ta, tb = a.split(), b.split()
    best = _pair(ta, tb)
    if len(ta) > 1:
        best = max(best, SWAPPED_ORDER_FACTOR * _pair(ta[-1:] + ta[:-1], tb))
    return 0.9 * best + 0.1 * fuzz.token_sort_ratio(a, b) / 100


def email_local_part(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return alphanumerics(email.split("@", 1)[0].lower()) or None


def email_score(a: str | None, b: str | None) -> float:
    la, lb = email_local_part(a), email_local_part(b)
    if not la or not lb:
        return 0.0
    return _ratio(la, lb)


# A pure function of two names and emails, scored for each of a rep's candidates on every page
# a dashboard shows (1,250 pairs, about 25 ms, for 50 reps): a page polled again is looked up.
@lru_cache(maxsize=32_768)
def score(rep: Person, user: Person) -> float:
    n = name_score(rep.normalized_name, user.normalized_name)
    e = email_score(rep.email, user.email)
    return round(max(n, (n + e) / 2), 4)


def last_name(rep: Person) -> str | None:
    words = rep.normalized_name.split()
    return words[-1] if words else None


def first_names(rep: Person) -> tuple[str, ...]:
    """The rep's first name and its nickname equivalents: users with one of them are the
    first candidates among those sharing the rep's last name."""
    words = rep.normalized_name.split()
    if len(words) < 2:
        return ()
    return tuple(sorted(name_equivalents(words[0])))


def email_searches(rep: Person) -> tuple[str, ...]:
    """What PostgreSQL looks for in users' emails: the rep's local part as sent and without its
    punctuation ("r.jones" also finds "rjones@...")."""
    if not rep.email or "@" not in rep.email:
        return ()
    local = rep.email.split("@", 1)[0].lower()
    return tuple(dict.fromkeys(part for part in (local, email_local_part(rep.email)) if part))


@dataclass(frozen=True)
class Scored:
    user_id: int
    score: float


def rank(rep: Person, candidates: dict[int, Person]) -> list[Scored]:
    """The candidates at or above the threshold, best first (ties: the older user), at most 5."""
    scored = [Scored(user_id=uid, score=score(rep, person)) for uid, person in candidates.items()]
    kept = [s for s in scored if s.score >= THRESHOLD]
    kept.sort(key=lambda s: (-s.score, s.user_id))
    return kept[:MAX_SUGGESTIONS]
