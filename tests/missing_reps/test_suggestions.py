"""Suggested matches: the team's users a missing rep probably is, ranked by a score in [0, 1]
from fuzzy names, known nicknames and email local parts; at most 5, above the threshold."""

from __future__ import annotations

import uuid

import pytest

from app.missing_reps import suggestions
from app.missing_reps.suggestions import THRESHOLD, Person, score
from app.teams import service as teams
from app.teams.models import Role, User
from app.validation import normalize_name
from tests.missing_reps.screen import MAP, SUGGESTIONS, detect
from tests.support import make_member, make_team

# (missing rep as the CRM sends it, the user it should suggest): real pairs, from nicknames
# in the dataset, typos, order swaps, initials, accents, middle and double-barrelled names.
SAME_PERSON = [
    ("Stephen Smith", "Steve Smith"),
    ("Bill Gates", "William Gates"),
    ("Bob Jones", "Robert Jones"),
    ("Liz Taylor", "Elizabeth Taylor"),
    ("Peggy Olson", "Margaret Olson"),
    ("Jim Halpert", "James Halpert"),
    ("Chuck Norris", "Charles Norris"),
    ("Dick Grayson", "Richard Grayson"),
    ("Kate Beckett", "Katherine Beckett"),
    ("Tony Stark", "Anthony Stark"),
    ("Beth Harmon", "Elizabeth Harmon"),
    ("Jennifer Lopez", "Jenny Lopez"),
    ("Jon Snow", "John Snow"),
    ("Stephan Smith", "Stephen Smith"),
    ("Catherine Zeta", "Katherine Zeta"),
    ("Mike O'Neil", "Michael O'Neill"),
    ("Smith, Stephen", "Stephen Smith"),
    ("S. Smith", "Stephen Smith"),
    ("Stephen J. Smith", "Stephen Smith"),
    ("Anna Kowalski", "Anna Kowalski-Brown"),
]

# Different people whom a careless fuzzy match would confuse.
DIFFERENT_PEOPLE = [
    ("John Smith", "Stephen Smith"),
    ("Jane Smith", "John Smith"),
    ("Steve Jobs", "Steve Smith"),
    ("Jim Brown", "Tim Brown"),
    ("Mark Lee", "Mary Lee"),
    ("Sam Wilson", "Pam Wilson"),
    ("David Miller", "Daniel Miller"),
    ("Chris Lee", "Chris Li"),
    ("Anna Smith", "Hannah Schmidt"),
    ("Stephen", "Stephen Smith"),
    ("Maria Garcia", "Mario Garcia"),
]


@pytest.fixture
async def team(server):
    return await make_team()


async def _suggested(api, team, rep_id):
    data = await api.data(SUGGESTIONS, {"id": rep_id}, token=team.token(Role.MANAGER))
    return data["missingRep"]["suggestedMatches"]


@pytest.mark.parametrize("rep_name, user_name", SAME_PERSON)
async def test_the_same_person_under_another_name_is_suggested_first(api, team, rep_name, user_name):
    """A rep whose name is a nickname, typo, reordering or initial of a user's is suggested,
    best first."""
    user = await make_member(team.id, user_name)
    rep_id = await detect(api, team, rep_name)
    matches = await _suggested(api, team, rep_id)
    assert matches, f"{rep_name!r} suggested nobody"
    assert matches[0]["user"]["id"] == str(user.id)
    assert THRESHOLD <= matches[0]["score"] < 1


@pytest.mark.parametrize("rep_name, user_name", DIFFERENT_PEOPLE)
async def test_a_different_person_is_not_suggested(api, team, rep_name, user_name):
    """Names that merely look alike (one letter apart in a short first name, a shared last
    name) are not suggested."""
    user = await make_member(team.id, user_name)
    rep_id = await detect(api, team, rep_name)
    assert str(user.id) not in [m["user"]["id"] for m in await _suggested(api, team, rep_id)]


async def test_an_email_local_part_can_tip_the_balance(api, team):
    """The same email local part lifts a near name above the threshold; without it, the same
    names are not enough."""
    user = await make_member(team.id, "Mohamed Alrashid", email="malrashid@corp.example")
    with_email = await detect(api, team, "Mohammed Al Rashid", rep_email="malrashid@crm.example")
    assert [m["user"]["id"] for m in await _suggested(api, team, with_email)] == [str(user.id)]
    other_team = await make_team()
    await make_member(other_team.id, "Mohamed Alrashid", email="m.alrashid@corp.example")
    without = await detect(api, other_team, "Mohammed Al Rashid")
    assert await _suggested(api, other_team, without) == []


async def test_a_rep_known_only_by_email_is_compared_by_its_local_part(api, team):
    """An integration that sends only the rep's email: "stephen.smith@crm" suggests Stephen Smith."""
    user = await make_member(team.id, "Stephen Smith", email="stephen.smith@corp.example")
    rep_id = await detect(api, team, None, rep_email="stephen.smith@crm.example", prefix="by-email-")
    matches = await _suggested(api, team, rep_id)
    assert matches[0]["user"]["id"] == str(user.id) and matches[0]["score"] == 1


async def test_a_punctuated_local_part_finds_the_plain_one(api, team):
    """An email's dots do not hide a user: "r.jones@crm" finds "rjones@corp" (Robert Jones)."""
    user = await make_member(team.id, "Robert Jones", email="rjones@corp.example")
    rep_id = await detect(api, team, "R. Jones", rep_email="r.jones@crm.example")
    assert [m["user"]["id"] for m in await _suggested(api, team, rep_id)] == [str(user.id)]


async def test_at_most_five_best_first_all_above_the_threshold(api, team):
    """Many look-alikes: the 5 best, by descending score, each at or above the threshold."""
    for name in ["Steve Smith", "Steven Smith", "Stevie Smith", "Stephan Smith", "Steph Smith", "S. Smith",
                 "Stephen Smyth", "Stephen Smithe", "Stephen Jones", "Alice Wong"]:
        await make_member(team.id, name)
    rep_id = await detect(api, team, "Stephen Smith")
    matches = await _suggested(api, team, rep_id)
    scores = [m["score"] for m in matches]
    assert len(matches) == 5
    assert scores == sorted(scores, reverse=True)
    assert all(THRESHOLD <= s <= 1 for s in scores)
    names = [m["user"]["name"] for m in matches]
    assert "Alice Wong" not in names and "Stephen Jones" not in names


async def test_suggestions_come_from_the_callers_team_only(api, team):
    """A look-alike user of another team is never suggested."""
    other = await make_team()
    await make_member(other.id, "Steve Smith")
    rep_id = await detect(api, team, "Stephen Smith")
    assert await _suggested(api, team, rep_id) == []


async def test_a_resolved_rep_has_no_suggestions(api, team):
    """Once mapped, a rep is no longer missing: nothing to suggest."""
    user = await make_member(team.id, "Steve Smith")
    rep_id = await detect(api, team, "Stephen Smith")
    await api.data(MAP, {"id": rep_id, "userId": str(user.id)}, token=team.token(Role.MANAGER))
    assert await _suggested(api, team, rep_id) == []


async def test_the_list_carries_each_reps_suggestions(api, team):
    """Every node of a page has its own suggestions (computed together for the page)."""
    steve = await make_member(team.id, "Steve Smith")
    bill = await make_member(team.id, "William Gates")
    await detect(api, team, "Stephen Smith")
    await detect(api, team, "Bill Gates")
    await detect(api, team, "Nobody Alike")
    query = "{ missingReps { edges { node { name suggestedMatches { user { id } } } } } }"
    edges = (await api.data(query, token=team.token(Role.ADMIN)))["missingReps"]["edges"]
    found = {e["node"]["name"]: [m["user"]["id"] for m in e["node"]["suggestedMatches"]] for e in edges}
    assert found == {"Bill Gates": [str(bill.id)], "Nobody Alike": [], "Stephen Smith": [str(steve.id)]}


async def test_a_large_team_is_narrowed_in_postgresql(api, team):
    """In a team of thousands of users, the right one is found, and PostgreSQL hands Python a
    bounded candidate list rather than every user."""
    # Thousands of strangers, one William Gates, and 40 other Gateses to crowd the candidates.
    names = [f"User{i:05d} Person{i:05d}" for i in range(3000)] + ["William Gates"] + [
        f"Person{i} Gates" for i in range(40)
    ]
    await User.bulk_create(
        [
            User(team_id=team.id, name=n, normalized_name=normalize_name(n), email=f"{uuid.uuid4().hex[:12]}@corp.example", role=Role.REP)
            for n in names
        ]
    )
    rep_id = await detect(api, team, "Bill Gates")
    matches = await _suggested(api, team, rep_id)
    assert matches[0]["user"]["name"] == "William Gates"
    bill = Person.of_rep("Bill Gates", None)
    queries = [
        teams.CandidateQuery(
            key=1, name=bill.normalized_name, last_name="gates", first_names=suggestions.first_names(bill)
        )
    ]
    candidates = await teams.similar_users(team.id, queries, per_key=suggestions.CANDIDATES_PER_REP)
    assert 0 < len(candidates[1]) <= suggestions.CANDIDATES_PER_REP


# --- the score itself ----------------------------------------------------------------------


def test_the_score_is_1_only_for_the_same_name_and_email():
    """Identical normalised names (and emails) score 1; everything else scores below."""
    assert score(Person.of_rep("José García", "jg@x.example"), Person.of_rep("Jose Garcia", "jg@y.example")) == 1
    assert score(Person.of_rep("Stephen Smith", None), Person.of_rep("Steve Smith", None)) < 1


@pytest.mark.parametrize("rep_name, user_name", SAME_PERSON)
def test_same_person_pairs_score_at_or_above_the_threshold(rep_name, user_name):
    """The scoring alone puts every same-person pair at or above the threshold."""
    assert score(Person.of_rep(rep_name, None), Person.of_rep(user_name, None)) >= THRESHOLD


@pytest.mark.parametrize("rep_name, user_name", DIFFERENT_PEOPLE)
def test_different_people_score_below_the_threshold(rep_name, user_name):
    """The scoring alone keeps every different-people pair below the threshold."""
    assert score(Person.of_rep(rep_name, None), Person.of_rep(user_name, None)) < THRESHOLD


def test_nicknames_come_from_the_dataset_both_ways():
    """Nickname knowledge is the `nicknames` dataset's, in both directions."""
    assert "steve" in suggestions.name_equivalents("stephen")
    assert "stephen" in suggestions.name_equivalents("steve")
    assert "william" in suggestions.name_equivalents("bill")
    assert suggestions.name_equivalents("zzyzx") == frozenset({"zzyzx"})


def test_an_email_can_only_raise_the_score():
    """Emails that differ never push a good name match down."""
    rep, user = Person.of_rep("Steve Smith", "abc@crm.example"), Person.of_rep("Stephen Smith", "xyz@corp.example")
    assert score(rep, user) == score(Person.of_rep("Steve Smith", None), Person.of_rep("Stephen Smith", None))
