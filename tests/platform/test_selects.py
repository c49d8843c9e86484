"""app.gql.selects: whether a field asks for some of its sub-fields, answered once per set of field
nodes (a cached document's nodes are the same objects on every request)."""

from __future__ import annotations

import types

from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from app.gql import selects

DOCUMENT = parse(
    """
    query($x: Boolean!) {
      own: accountStatus { state activeMemberCount }
      spread: accountStatus { ...Counts }
      inline: accountStatus { ... on AccountStatus { activeConversationCount } }
      none: accountStatus { state }
      merged: accountStatus { state }
      merged: accountStatus @include(if: $x) { activeMemberCount }
    }
    fragment Counts on AccountStatus { activeConversationCount }
    """
)
OPERATION = next(d for d in DOCUMENT.definitions if isinstance(d, OperationDefinitionNode))
FRAGMENTS = {d.name.value: d for d in DOCUMENT.definitions if isinstance(d, FragmentDefinitionNode)}
FIELDS = [s for s in OPERATION.selection_set.selections if isinstance(s, FieldNode)]


def info(*aliases: str):
    nodes = [f for alias in aliases for f in FIELDS if f.alias.value == alias]
    return types.SimpleNamespace(_raw_info=types.SimpleNamespace(field_nodes=nodes, fragments=FRAGMENTS))


COUNTS = ("activeConversationCount", "activeMemberCount")


def test_a_sub_field_is_found_in_the_selection_its_fragments_and_inline_fragments():
    for _ in range(2):  # the second time from what the first kept
        assert selects(info("own"), *COUNTS)
        assert selects(info("spread"), *COUNTS)
        assert selects(info("inline"), *COUNTS)
        assert not selects(info("none"), *COUNTS)
        assert not selects(info("own"), "pausedAt")


def test_the_answer_is_kept_for_the_whole_set_of_merged_nodes():
    merged = [f for f in FIELDS if f.alias.value == "merged"]
    alone = types.SimpleNamespace(_raw_info=types.SimpleNamespace(field_nodes=merged[:1], fragments=FRAGMENTS))
    both = types.SimpleNamespace(_raw_info=types.SimpleNamespace(field_nodes=merged, fragments=FRAGMENTS))
    for _ in range(2):
        assert not selects(alone, *COUNTS)  # $x false: the second node is not merged in
        assert selects(both, *COUNTS)
