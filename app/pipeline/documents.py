"""The document cache: each distinct query text is parsed, measured and validated once.

Entries are keyed by the SHA-256 of the query text, which is also the hash Automatic Persisted
Queries name a document by, so the cache is the APQ store as well. It is bounded twice: by the
number of entries and by the tokens they hold (a parsed token is a few hundred bytes of AST).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLSchema,
    GraphQLSyntaxError,
    StringValueNode,
    specified_rules,
    validate,
    visit,
    Visitor,
)
from graphql.language.parser import Parser
from graphql.validation import NoSchemaIntrospectionCustomRule

from app.errors import AppError, ErrorCode
from app.pipeline.analysis import Analyzer, OperationPlan
from app.pipeline.errors import RequestRefused, refused_from
from app.validation import check_text


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


class CacheEntry:
    """One query text: its AST, what each operation would cost, and whether it is valid.

    `extra` is for later stages that want to keep work per document (e.g. a compiled plan).
    """

    __slots__ = ("key", "query", "document", "tokens", "error", "plans", "_validated", "within", "extra")

    def __init__(self, key: str, query: str) -> None:
        self.key = key
        self.query = query
        self.document: DocumentNode | None = None
        self.tokens = 0
        self.error: RequestRefused | None = None  # a syntax error, or bad input in a literal
        self.plans: dict[str | None, OperationPlan] = {}
        self._validated: RequestRefused | None | bool = False  # False: not validated yet
        self.within: list[Any] = []  # the pipeline's Limits its operations were measured within
        self.extra: dict[str, Any] = {}


class DocumentCache:
    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        max_entries: int,
        max_tokens_held: int,
        introspection: bool,
    ) -> None:
        self.schema = schema
        self.analyzer = Analyzer(schema)
        self.max_entries = max_entries
        self.max_tokens_held = max_tokens_held
        self.rules = [*specified_rules] + ([] if introspection else [NoSchemaIntrospectionCustomRule])
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        # The same entries by their text: a client sends the same text, and looking it up costs
        # less than hashing it (the key stays the SHA-256, which persisted queries name).
        self._by_text: dict[str, CacheEntry] = {}
        self._tokens_held = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CacheEntry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def cached(self, query: str, *, max_tokens: int) -> CacheEntry | None:
        """The entry of `query` when entry_for would return it without parsing; else None."""
        entry = self._by_text.get(query)
        if entry is not None and _usable(entry, max_tokens):
            self._entries.move_to_end(entry.key)
            return entry
        return None

    def entry_for(self, query: str, key: str, *, max_tokens: int) -> CacheEntry:
        """The cached entry of `query`, parsing and measuring it on a miss.

        Parsing stops after `max_tokens` tokens. Such an entry keeps no AST, only that it has
        more than `max_tokens` tokens: the same document is then refused without parsing, unless
        a caller with a larger limit sends it."""
        entry = self.get(key)
        if entry is not None and _usable(entry, max_tokens):
            return entry
        entry = CacheEntry(key, query)
        parser = Parser(query, max_lexical_tokens=max_tokens, max_comments=max_tokens)
        try:
            entry.document = parser.parse_document()
        except GraphQLSyntaxError as error:
            if "Parsing aborted" in error.message:
                entry.tokens = max_tokens + 1  # at least
            else:
                entry.error = refused_from(ErrorCode.GRAPHQL_PARSE_FAILED, [error])
        else:
            # Counted only because a limit was given; read from the parser that kept it.
            entry.tokens = getattr(parser, "_lexical_token_counter", 0)
            entry.plans = self.analyzer.plan(entry.document)
            entry.error = _literal_input_error(entry.document)
        self._store(entry)
        return entry

    def validate(self, entry: CacheEntry) -> None:
        """Raises the document's validation errors; validates once per entry."""
        if entry._validated is False:
            errors = validate(self.schema, entry.document, self.rules, max_errors=20)
            entry._validated = refused_from(ErrorCode.GRAPHQL_VALIDATION_FAILED, errors) if errors else None
        if entry._validated is not None:
            raise entry._validated

    def _store(self, entry: CacheEntry) -> None:
        previous = self._entries.pop(entry.key, None)
        if previous is not None:
            self._tokens_held -= previous.tokens
        self._entries[entry.key] = entry
        self._by_text[entry.query] = entry
        self._tokens_held += entry.tokens
        while len(self._entries) > self.max_entries or (
            self._tokens_held > self.max_tokens_held and len(self._entries) > 1
        ):
            _, evicted = self._entries.popitem(last=False)
            self._tokens_held -= evicted.tokens
            if self._by_text.get(evicted.query) is evicted:
                del self._by_text[evicted.query]


def _usable(entry: CacheEntry, max_tokens: int) -> bool:
    """Whether a cached entry answers a caller with this token cap: parsed, refused, or known to
    exceed the cap (an entry whose parsing stopped at a lower cap is parsed again)."""
    return entry.document is not None or entry.error is not None or max_tokens < entry.tokens


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.error: AppError | None = None

    def enter_string_value(self, node: StringValueNode, *_args):
        try:
            check_text(node.value, "a string in the document")
        except AppError as error:
            self.error = error
            return self.BREAK
        return None


def _literal_input_error(document: DocumentNode) -> RequestRefused | None:
    """Every string literal of the document is an input: the same rules as variables."""
    visitor = _StringLiterals()
    visit(document, visitor)
    if visitor.error is None:
        return None
    return RequestRefused(ErrorCode.BAD_USER_INPUT, visitor.error.message, **{
        k: v for k, v in visitor.error.extensions.items() if k != "code"
    })
