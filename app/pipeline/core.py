"""The request pipeline shared by HTTP and websockets: every check before the seam, cheapest first.

    raw variables (lists counted, strings checked) -> document size -> APQ -> cached document
    (parse with a token cap, measure) -> depth / aliases / cost -> validation (once per document)
    -> operation -> who may run it and see what it reaches -> execution (the seam,
    app.pipeline.execution) under a timeout -> errors masked and coded.

The rate limit comes first of all (`admit`): it needs only the caller (HTTP checks it before
reading the body).

Limits depend on the caller: callers without a valid token get the anonymous ones, and may run
introspection only (GraphiQL loads its schema with it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from graphql import OperationType

from app.auth import Permission, authorize
from app.errors import AppError, ErrorCode
from app.pipeline import execution
from app.pipeline.analysis import OperationPlan
from app.pipeline.deadlines import Deadlines
from app.pipeline.documents import CacheEntry, DocumentCache, query_hash
from app.pipeline.errors import RequestRefused, format_error, limit_exceeded, refused_from
from app.pipeline.ratelimit import RateLimits
from app.settings import Settings
from app.validation import check_text

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    max_document_chars: int
    max_tokens: int
    max_depth: int
    max_aliases: int
    max_cost: int
    max_list_items: int

    @classmethod
    def from_settings(cls, settings: Settings, prefix: str = "") -> Limits:
        """The limits named `<prefix>max_…` in settings; the list-items cap is the same for all."""
        values = {name: getattr(settings, prefix + name) for name in cls.__dataclass_fields__ if name != "max_list_items"}
        return cls(**values, max_list_items=settings.max_list_items)


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs a call per field
class GraphQLRequest:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None

    @classmethod
    def from_params(cls, params: Any) -> GraphQLRequest:
        """The request's parameters, checked for their JSON types (400 otherwise)."""
        if not isinstance(params, dict):
            raise bad_request("The request must be a JSON object with a query.")
        query, variables = params.get("query"), params.get("variables")
        name, extensions = params.get("operationName"), params.get("extensions")
        if query is not None and not isinstance(query, str):
            raise bad_request("query must be a string.")
        if name is not None and not isinstance(name, str):
            raise bad_request("operationName must be a string.")
        if variables is not None and not isinstance(variables, dict):
            raise bad_request("variables must be an object.")
        if extensions is not None and not isinstance(extensions, dict):
            raise bad_request("extensions must be an object.")
        return cls(query=query, variables=variables, operation_name=name, extensions=extensions)


def bad_request(message: str) -> RequestRefused:
    return RequestRefused(ErrorCode.BAD_REQUEST, message, status=400, json_status=400)


@dataclass(slots=True)
class Prepared:
    """A request that passed every check: what the seam needs to run it."""

    entry: CacheEntry
    plan: OperationPlan
    variables: dict[str, Any]


class Pipeline:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema = execution.graphql_schema()
        self.documents = DocumentCache(
            self.schema,
            max_entries=settings.document_cache_size,
            max_tokens_held=settings.document_cache_tokens,
            introspection=settings.introspection,
        )
        self.limits = Limits.from_settings(settings)
        self.anonymous_limits = Limits.from_settings(settings, prefix="anonymous_")
        self.rate_limits = RateLimits(settings)
        self.timeout = settings.request_timeout_seconds
        self.deadlines = Deadlines()

    def limits_for(self, caller: Any) -> Limits:
        return self.limits if caller is not None else self.anonymous_limits

    # -- before execution -------------------------------------------------------------------

    async def admit(self, caller: Any, client: str) -> None:
        """The caller's rate limit: first, since it needs nothing but who is calling."""
        await self.rate_limits.hit(caller, client)

    async def prepare(
        self,
        request: GraphQLRequest,
        context: Any,
        *,
        allowed: frozenset[OperationType] = frozenset(OperationType),
    ) -> Prepared:
        caller = context.caller
        limits = self.limits_for(caller)
        variables = request.variables or {}
        check_raw_variables(variables, limits.max_list_items)
        entry = self._entry(request, limits)
        self._check_parsed(entry, limits)
        if caller is None and not all(plan.introspection_only for plan in entry.plans.values()):
            # Without a token only introspection runs: refused as any field would refuse it.
            self._authorize(None, _ANONYMOUS_NEEDS, context.auth_error)
        self._check_measures(entry, limits)
        self.documents.validate(entry)
        plan = _select_operation(entry, request.operation_name)
        if plan.kind not in allowed:
            raise RequestRefused(
                ErrorCode.BAD_REQUEST,
                f"A {plan.kind.value} cannot be sent this way: use "
                + ("POST." if plan.kind is OperationType.MUTATION else "a websocket."),
                status=405,
                json_status=405,
                headers={"Allow": "POST"} if plan.kind is OperationType.MUTATION else None,
            )
        self._authorize(context.caller, plan.needs, context.auth_error)
        return Prepared(entry=entry, plan=plan, variables=variables)

    def _entry(self, request: GraphQLRequest, limits: Limits) -> CacheEntry:
        query = request.query
        persisted = (request.extensions or {}).get("persistedQuery")
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version") != 1 or not isinstance(
                persisted.get("sha256Hash"), str
            ):
                raise bad_request("extensions.persistedQuery must be {version: 1, sha256Hash: <hex>}.")
            key = persisted["sha256Hash"].lower()
            if query is None:
                entry = self.documents.get(key)
                if entry is None:
                    # Apollo clients look for this message or code, then send the query itself.
                    raise RequestRefused(ErrorCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
                self._check_size(entry.query, limits)
                return entry
        if query is None:
            raise bad_request("Send the GraphQL document as query (or a persisted query's hash).")
        self._check_size(query, limits)
        if persisted is None:
            entry = self.documents.cached(query, max_tokens=limits.max_tokens)
            if entry is not None:
                return entry
        key = query_hash(query)
        if persisted is not None and key != persisted["sha256Hash"].lower():
            raise bad_request("provided sha does not match query")
        return self.documents.entry_for(query, key, max_tokens=limits.max_tokens)

    @staticmethod
    def _check_size(query: str, limits: Limits) -> None:
        if len(query) > limits.max_document_chars:
            raise limit_exceeded(
                ErrorCode.GRAPHQL_PARSE_FAILED,
                "maxDocumentChars",
                limits.max_document_chars,
                len(query),
                f"The document is {len(query)} characters long; the limit (maxDocumentChars) is "
                f"{limits.max_document_chars}.",
            )

    @staticmethod
    def _check_parsed(entry: CacheEntry, limits: Limits) -> None:
        if entry.error is not None:
            raise entry.error
        if entry.tokens > limits.max_tokens:
            counted = entry.document is not None  # else parsing stopped at a limit
            raise limit_exceeded(
                ErrorCode.GRAPHQL_PARSE_FAILED,
                "maxTokens",
                limits.max_tokens,
                entry.tokens if counted else None,
                f"The document has {'' if counted else 'more than '}{entry.tokens if counted else limits.max_tokens} "
                f"tokens; the limit (maxTokens) is {limits.max_tokens}.",
            )

    @staticmethod
    def _check_measures(entry: CacheEntry, limits: Limits) -> None:
        if limits in entry.within:  # the same Limits object, as a rule: found by identity
            return
        for plan in entry.plans.values():
            for limit, value, maximum in (
                ("maxDepth", plan.depth, limits.max_depth),
                ("maxAliases", plan.aliases, limits.max_aliases),
                ("maxCost", plan.cost, limits.max_cost),
            ):
                if value > maximum:
                    what = f"operation {plan.name}" if plan.name else "the operation"
                    raise limit_exceeded(
                        ErrorCode.GRAPHQL_VALIDATION_FAILED,
                        limit,
                        maximum,
                        value,
                        f"{what[0].upper()}{what[1:]} has {limit[3:].lower()} {value}; the limit ({limit}) is {maximum}.",
                    )
        entry.within.append(limits)

    @staticmethod
    def _authorize(caller: Any, needs: Any, auth_error: str | None) -> None:
        """Runs app.auth's check for each (permission, what) before execution: its AppError
        becomes the request's refusal."""
        try:
            for permission, what in needs:
                authorize(caller, permission, auth_error=auth_error, what=what)
        except AppError as error:
            status = 401 if error.code is ErrorCode.UNAUTHENTICATED else 403
            raise RequestRefused(
                error.code, error.message, status=status, **{k: v for k, v in error.extensions.items() if k != "code"}
            ) from None

    # -- execution --------------------------------------------------------------------------

    async def execute(self, prepared: Prepared, context: Any, root: Any = None) -> dict[str, Any]:
        """Runs a query or mutation through the seam: the response body, errors coded and masked."""
        try:
            with self.deadlines.watch(self.timeout):
                result = await execution.execute_operation(
                    prepared.entry, prepared.plan.name, prepared.variables, context, root
                )
        except TimeoutError:
            raise RequestRefused(
                ErrorCode.REQUEST_TIMEOUT,
                f"The request ran longer than {self.timeout:g} s and was stopped (limit requestTimeoutSeconds).",
                status=503,
                limit="requestTimeoutSeconds",
                max=self.timeout,
            ) from None
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # No data and no path: the variables could not be coerced; nothing ran.
            raise refused_from(ErrorCode.BAD_USER_INPUT, list(result.errors))
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        body["data"] = result.data
        return body


_ANONYMOUS_NEEDS = ((Permission.VIEW_SELF, None),)


def _select_operation(entry: CacheEntry, name: str | None) -> OperationPlan:
    plans = entry.plans
    if name is None:
        if len(plans) == 1:
            return next(iter(plans.values()))
        raise RequestRefused(
            ErrorCode.OPERATION_RESOLUTION_FAILURE,
            "The document holds several operations: name the one to run in operationName.",
        )
    plan = plans.get(name)
    if plan is None:
        raise RequestRefused(
            ErrorCode.OPERATION_RESOLUTION_FAILURE, f"The document has no operation named {name!r}."
        )
    return plan


def check_raw_variables(variables: dict[str, Any], max_list_items: int) -> None:
    """Before any coercion: every list no longer than the limit, every string a valid input.

    A list too long is refused on its length alone, without looking inside it."""
    stack: list[tuple[Any, str]] = [(variables, "$")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            try:
                check_text(value, f"variable {where}")
            except AppError as error:
                field = where.rsplit(".", 1)[-1].split("[")[0].lstrip("$")
                raise RequestRefused(error.code, error.message, field=field, variable=where) from None
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((item, f"{where}.{key}" if where != "$" else f"${key}"))
        elif isinstance(value, list):
            if len(value) > max_list_items:
                raise limit_exceeded(
                    ErrorCode.BAD_USER_INPUT,
                    "maxListItems",
                    max_list_items,
                    len(value),
                    f"variable {where} holds {len(value)} items; the limit (maxListItems) is {max_list_items}.",
                )
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
