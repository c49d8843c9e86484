"""Compiles a validated GraphQL operation into a plan of closures, and runs it.

The plan is graphql-core's execution algorithm (graphql-core 3.3, which follows the spec's
"Execution" section) with everything that depends only on the document and the schema done once:
field collection (fragments, inline fragments, aliases, @skip / @include), the choice of how each
field is resolved (a plain attribute read where a strawberry field has no resolver, the field's
resolver otherwise) and how its value is completed (leaf serialisation per type, lists, objects).
What is left per request is calling resolvers and building the response. Each selection set of an
object type runs as one generated function (`_fields_function`): plain attributes completed as
scalars or enums are read and checked inline, and anything the inline check does not accept as is
goes through the field's own executor. A selection made only of plain attributes also compiles to
`inline_<type>(source)` (`_inline_functions`), which a list uses to complete its items in one loop.

It reproduces graphql-core's observable behaviour exactly: the same data, the same errors (message,
path, locations), null propagation to the nearest nullable parent, the same cancellation of
sibling work when a non-null error propagates (`gather_with_cancel`), the same dropping of errors
under a position already nulled. tests/executor proves it against graphql-core with generated
operations. What it does not cover raises Unsupported at compile time (or, for a @skip/@include
variable that is null, before anything runs), and the caller falls back to graphql-core.
"""

from __future__ import annotations

import asyncio
import functools
import keyword
import math
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from inspect import isawaitable
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_enum_type,
    is_input_object_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined, inspect, is_iterable
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from graphql.type import GraphQLBoolean, GraphQLFloat, GraphQLID, GraphQLInt, GraphQLString
from graphql.type.definition import GraphQLResolveInfoHelpers
from graphql.utilities import type_from_ast

from app.executor.arguments import compile_arguments
from app.executor.unsupported import Unsupported
from app.executor.variables import compile_variables

STRAWBERRY_DEFINITION = "strawberry-definition"
_MAX_INT, _MIN_INT = 2_147_483_647, -2_147_483_648


# Whether instances of a type are awaitable, by type: values of one type are checked thousands of
# times per response. Generators are left out (one may or may not be a generator-based coroutine).
_AWAITABLE_TYPES: dict[type, bool] = {t: False for t in (str, int, float, bool, type(None), dict, list, tuple)}
_AWAITABLE_TYPES[CoroutineType] = True


# Types whose instances are objects to complete as they are: neither an error nor awaitable (the
# inline code's one check per object; False: look at each instance, as for generators).
_PLAIN_OBJECT_TYPES: dict[type, bool] = {}


def _not_plain_object(value: Any) -> bool:
    """Whether `value` is an error or awaitable (the inline code then gives up on it); its type's
    answer is kept where the type decides it."""
    kind = type(value)
    not_plain = isinstance(value, Exception) or is_awaitable(value)
    if kind is not GeneratorType:
        _PLAIN_OBJECT_TYPES[kind] = not not_plain
    return not_plain


def is_awaitable(value: Any) -> bool:
    """inspect.isawaitable, with the answer kept per type."""
    kind = type(value)
    known = _AWAITABLE_TYPES.get(kind)
    if known is not None:
        return known
    answer = isawaitable(value)
    if kind is not GeneratorType:
        _AWAITABLE_TYPES[kind] = answer
    return answer


# --- per-request state -------------------------------------------------------------------------


class _Errors:
    """graphql-core's CollectedErrors: an error under an already nulled position is dropped."""

    __slots__ = ("errors", "positions")

    def __init__(self) -> None:
        self.errors: list[GraphQLError] = []
        self.positions: set[Path | None] = set()

    def add(self, error: GraphQLError, path: Path | None) -> None:
        positions = self.positions
        if positions:
            p = path
            while p is not None:
                if p in positions:
                    return
                p = p.prev
            if None in positions:
                return
        positions.add(path)
        self.errors.append(error)


class Run:
    """One execution of a plan: what graphql-core keeps on its Executor."""

    __slots__ = ("compiled", "root_value", "context", "variables", "errors", "helpers", "background", "recorded")

    def __init__(
        self, compiled: CompiledOperation, root_value: Any, context: Any, variables: VariableValues, recorded: dict | None = None
    ) -> None:
        self.compiled = compiled
        # When a dict: what each resolver returned (or raised), by response path.
        self.recorded = recorded
        self.root_value = root_value
        self.context = context
        self.variables = variables
        self.errors = _Errors()
        self.background: list[asyncio.Future] = []
        # Its functions hold the list, not the run: a run that referred to itself would outlive its
        # request until the collector's next pass (and, with it, the request and its context).
        self.helpers = GraphQLResolveInfoHelpers(gather=_gather, track=functools.partial(_track, self.background))

    def settle_in_background(self, awaitables: list[Awaitable[Any]]) -> None:
        _settle_in_background(self.background, awaitables)

    def info(self, fp: FieldPlan, path: Path) -> GraphQLResolveInfo:
        compiled = self.compiled
        return GraphQLResolveInfo(
            fp.field_name,
            fp.nodes,
            fp.return_type,
            fp.parent_type,
            path,
            compiled.schema,
            compiled.fragments,
            self.root_value,
            compiled.operation,
            # strawberry's execution context hands resolvers the plain coerced dict.
            self.variables.coerced,
            self.context,
            is_awaitable,
            None,
            self.helpers,
        )


def _gather(values):
    return gather_with_cancel(*values)


def _track(background: list[asyncio.Future], values) -> None:
    awaitables = [v for v in values if is_awaitable(v)]
    if awaitables:
        _settle_in_background(background, awaitables)


def _settle_in_background(background: list[asyncio.Future], awaitables: list[Awaitable[Any]]) -> None:
    # As graphql-core does: abandoned work still runs to its end, its errors observed.
    background.append(asyncio.gather(*awaitables, return_exceptions=True))


# --- the plan ----------------------------------------------------------------------------------


class FieldPlan:
    """One response key of a selection set: the field, how to resolve it, how to complete it."""

    __slots__ = (
        "response_name",
        "field_name",
        "nodes",
        "field_def",
        "return_type",
        "parent_type",
        "parent_name",
        "execute",
        "complete",
        "non_null",
        "null_message",
        "attribute",
        "object_attribute",
        "tails",
    )

    def __init__(self, response_name: str, nodes: list[FieldNode], parent_type: GraphQLObjectType) -> None:
        self.response_name = response_name
        self.field_name = nodes[0].name.value
        self.nodes = nodes
        self.parent_type = parent_type
        self.parent_name = parent_type.name
        self.field_def: GraphQLField | None = None
        self.return_type = None
        self.execute: Callable[[Run, Any, Path | None], Any] = None  # type: ignore[assignment]
        self.complete: Callable[[Run, Any, Path], Any] = None  # type: ignore[assignment]
        self.non_null = False
        # Set when the field is a plain attribute read completed as a scalar or enum: the
        # generated selection-set code (_fields_function) reads and completes it inline.
        self.attribute: str | None = None
        # Set when the field is a plain attribute read completed as an object or a list, with
        # `tails` the two asynchronous ends of its completion: the generated code runs it inline.
        self.object_attribute: str | None = None
        self.tails: tuple[Callable, Callable] | None = None
        self.null_message = f"Cannot return null for non-nullable field {parent_type.name}.{self.field_name}."

    def path(self, parent: Path | None) -> Path:
        return Path(parent, self.response_name, self.parent_name)

    def handle_error(self, run: Run, raw: Exception, return_type, path: Path) -> None:
        """graphql-core's handle_field_error: located, then re-raised under a non-null type."""
        error = located_error(raw, self.nodes, path.as_list())
        if is_non_null_type(return_type):
            raise error
        run.errors.add(error, path)


class CompiledOperation:
    """A validated operation, compiled; `execute` is graphql-core's `execute` for it."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None = None) -> None:
        self.schema = schema
        self.document = document
        self.operation, self.fragments = _select_operation(document, operation_name)
        operation = self.operation
        # A subscription compiles for its events (app/live executes each with the event as root):
        # its root field resolves to the event itself (below), never through its source resolver.
        if operation.directives:
            raise Unsupported("directives on the operation")
        root_type = schema.get_root_type(operation.operation)
        if root_type is None:
            raise Unsupported(f"no {operation.operation.value} root type")
        self.root_type = root_type
        self.serial = operation.operation == OperationType.MUTATION
        # Variables deciding @skip / @include: one set of plans per combination of their values.
        self.condition_variables = _condition_variables(operation, self.fragments)
        self._plans: dict[tuple, list[FieldPlan]] = {}
        try:
            self._coerce_fast = compile_variables(schema, operation)
        except Unsupported:
            self._coerce_fast = None  # graphql-core coerces this operation's variables
        if not self.condition_variables:
            self._plans[()] = self._compile_root(())  # compile errors surface now, not per request

    # -- compiling ------------------------------------------------------------------------------

    def _compile_root(self, key: tuple) -> list[FieldPlan]:
        conditions = dict(zip(self.condition_variables, key))
        return _Compiler(self, conditions).selection(self.root_type, [self.operation.selection_set])

    def plan_for(self, variables: VariableValues) -> list[FieldPlan]:
        if not self.condition_variables:
            return self._plans[()]  # compiled in __init__: most operations have one plan
        coerced = variables.coerced
        key = tuple(coerced.get(name) for name in self.condition_variables)
        plan = self._plans.get(key)
        if plan is None:
            if any(type(v) is not bool for v in key):
                raise Unsupported("a @skip/@include variable without a boolean value")
            plan = self._plans[key] = self._compile_root(key)
        return plan

    # -- running --------------------------------------------------------------------------------

    def coerce_variables(self, raw: dict[str, Any] | None) -> VariableValues | list[GraphQLError]:
        """graphql-core's get_variable_values; valid input takes the compiled path."""
        if self._coerce_fast is not None and isinstance(raw or {}, dict):
            coerced = self._coerce_fast(raw or {})
            if coerced is not None:
                return coerced
        return get_variable_values(self.schema, self.operation.variable_definitions or (), raw or {}, max_errors=50)

    def execute(
        self, root_value: Any = None, context_value: Any = None, variable_values: dict[str, Any] | None = None
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        variables = self.coerce_variables(variable_values)
        if isinstance(variables, list):
            return ExecutionResult(None, variables)
        return self.execute_coerced(root_value, context_value, variables)

    def execute_coerced(
        self, root_value: Any, context_value: Any, variables: VariableValues, *, recorded: dict | None = None
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        """Raises Unsupported before running anything if this request needs graphql-core."""
        plan = self.plan_for(variables)
        run = Run(self, root_value, context_value, variables, recorded)
        try:
            if self.serial:
                data = _execute_serially(run, plan, root_value)
            else:
                data = _execute_fields(run, plan, root_value, None)
        except GraphQLError as error:
            run.errors.add(error, None)
            return ExecutionResult(None, run.errors.errors or None)
        if is_awaitable(data):
            return self._await_result(run, data)
        return ExecutionResult(data, run.errors.errors or None)

    @staticmethod
    async def _await_result(run: Run, data: Awaitable[dict]) -> ExecutionResult:
        try:
            result = await data
        except GraphQLError as error:
            run.errors.add(error, None)
            return ExecutionResult(None, run.errors.errors or None)
        return ExecutionResult(result, run.errors.errors or None)


def _select_operation(
    document: DocumentNode, operation_name: str | None
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    operation = None
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None:
                if operation is not None:
                    raise Unsupported("several operations without an operation name")
                operation = definition
            elif definition.name and definition.name.value == operation_name:
                operation = definition
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                raise Unsupported("fragment variables")
            fragments[definition.name.value] = definition
        else:
            raise Unsupported(f"definition {definition.kind}")
    if operation is None:
        raise Unsupported("no such operation")
    return operation, fragments


def _condition_variables(operation: OperationDefinitionNode, fragments: dict) -> tuple[str, ...]:
    found: list[str] = []

    def walk(selection_set: SelectionSetNode | None, seen: set[str]) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                name = directive.name.value
                if name not in ("skip", "include"):
                    raise Unsupported(f"directive @{name}")
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        variable = argument.value.name.value
                        if variable not in found:
                            found.append(variable)
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    walk(fragments[name].selection_set, seen)
            else:
                walk(selection.selection_set, seen)

    walk(operation.selection_set, set())
    return tuple(found)


# --- compiling selection sets ------------------------------------------------------------------


class _Compiler:
    def __init__(self, compiled: CompiledOperation, conditions: dict[str, bool]) -> None:
        self.compiled = compiled
        self.schema = compiled.schema
        self.conditions = conditions

    def _included(self, node) -> bool:
        for directive in node.directives or ():
            value_node = directive.arguments[0].value if directive.arguments else None
            if value_node is None:
                raise Unsupported("@skip/@include without if")
            if isinstance(value_node, VariableNode):
                value = self.conditions[value_node.name.value]
            else:
                value = getattr(value_node, "value", None)
                if type(value) is not bool:
                    raise Unsupported("@skip/@include with a non-boolean literal")
            if directive.name.value == "skip" and value:
                return False
            if directive.name.value == "include" and not value:
                return False
        return True

    def _fragment_applies(self, condition, runtime_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        conditional_type = type_from_ast(self.schema, condition)
        if conditional_type is runtime_type:
            return True
        if is_abstract_type(conditional_type):
            return self.schema.is_sub_type(conditional_type, runtime_type)
        return False

    def collect(self, runtime_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """The spec's CollectFields: response name -> field nodes, in order."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        fragments = self.compiled.fragments

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    if not self._included(selection):
                        continue
                    name = (selection.alias or selection.name).value
                    grouped.setdefault(name, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if not self._included(selection) or not self._fragment_applies(selection.type_condition, runtime_type):
                        continue
                    visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited or not self._included(selection):
                        continue
                    fragment = fragments.get(name)
                    if fragment is None or not self._fragment_applies(fragment.type_condition, runtime_type):
                        continue
                    visited.add(name)
                    visit(fragment.selection_set)

        for selection_set in selection_sets:
            visit(selection_set)
        return grouped

    def selection(self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]) -> list[FieldPlan]:
        plans = []
        for response_name, nodes in self.collect(object_type, selection_sets).items():
            field_name = nodes[0].name.value
            fp = FieldPlan(response_name, nodes, object_type)
            if field_name == "__typename":
                fp.execute = _typename_executor(object_type.name)
                plans.append(fp)
                continue
            if field_name.startswith("__"):
                raise Unsupported("introspection")
            field_def = object_type.fields.get(field_name)
            if field_def is None:
                continue  # graphql-core skips a field the type does not have
            fp.field_def = field_def
            fp.return_type = field_def.type
            fp.non_null = is_non_null_type(field_def.type)
            sub_sets = [n.selection_set for n in nodes if n.selection_set is not None]
            fp.complete = self.completer(field_def.type, fp, sub_sets)
            fp.execute = _field_executor(fp, field_def, self.compiled.schema)
            plans.append(fp)
        return plans

    def completer(self, type_, fp: FieldPlan, sub_sets: list[SelectionSetNode]) -> Callable[[Run, Any, Path], Any]:
        """completeValue for `type_`, specialised."""
        if is_non_null_type(type_):
            if is_object_type(type_.of_type) and type_.of_type.is_type_of is None:
                # The null check is part of the object's generated completer: one call less per object.
                return _object_completer(type_.of_type, fp, self, sub_sets, non_null=True)
            return _non_null_completer(self.completer(type_.of_type, fp, sub_sets), fp)
        if is_list_type(type_):
            return _list_completer(self.completer(type_.of_type, fp, sub_sets), type_.of_type, fp)
        if is_leaf_type(type_):
            return _leaf_completer(type_)
        if is_abstract_type(type_):
            raise Unsupported("interfaces and unions")
        if is_object_type(type_):
            return _object_completer(type_, fp, self, sub_sets)
        raise Unsupported(f"type {type_}")  # pragma: no cover


def _typename_executor(name: str):
    def execute(run: Run, source: Any, parent_path: Path | None) -> str:
        return name

    return execute


# --- resolving ---------------------------------------------------------------------------------


def _field_executor(fp: FieldPlan, field_def: GraphQLField, schema: GraphQLSchema):
    """executeField for one field: resolve, then complete; errors handled as graphql-core does."""
    resolve = field_def.resolve
    complete = fp.complete
    return_type = fp.return_type
    node = fp.nodes[0]
    has_args = bool(field_def.args or node.arguments)
    strawberry_field = field_def.extensions.get(STRAWBERRY_DEFINITION) if field_def.extensions else None

    handle_error = fp.handle_error
    complete_awaitable, await_completed = _async_tails(complete, handle_error, return_type)

    def finish(run: Run, result: Any, path: Path):
        if is_awaitable(result):
            return complete_awaitable(run, result, path)
        completed = complete(run, result, path)
        if is_awaitable(completed):
            return await_completed(run, completed, path)
        return completed

    basic = (
        getattr(resolve, "__name__", "") == "_get_basic_result"  # strawberry's wrapper of a plain attribute
        and strawberry_field is not None
        and strawberry_field.is_basic_field
        and not has_args
    )
    if basic:
        # A strawberry field without a resolver: strawberry's own wrapper is getattr(source, name).
        attribute = strawberry_field.python_name
        if is_leaf_type(get_named_type(return_type)) and not is_list_type(get_nullable_type(return_type)):
            # A scalar or enum: completing it needs no path, so the path is only built for an error.
            fp.attribute = attribute

            def execute_leaf(run: Run, source: Any, parent_path: Path | None):
                try:
                    value = getattr(source, attribute)
                    if not is_awaitable(value):
                        return complete(run, value, None)
                except Exception as raw:
                    handle_error(run, raw, return_type, Path(parent_path, fp.response_name, fp.parent_name))
                    return None
                return complete_awaitable(run, value, Path(parent_path, fp.response_name, fp.parent_name))

            return execute_leaf

        def execute(run: Run, source: Any, parent_path: Path | None):
            path = Path(parent_path, fp.response_name, fp.parent_name)
            try:
                return finish(run, getattr(source, attribute), path)
            except Exception as raw:
                handle_error(run, raw, return_type, path)
                return None

        fp.object_attribute = attribute
        fp.tails = (complete_awaitable, await_completed)
        return execute

    # A subscription's root field: `resolve` maps the event to the field's value; the strawberry
    # resolver behind it is the source stream, never called per event.
    subscription_root = strawberry_field is not None and strawberry_field.is_subscription
    direct = None if subscription_root else _direct_call(strawberry_field, field_def, schema)
    if direct is not None:
        # A strawberry resolver called as strawberry's wrapper would call it (source as self, an
        # Info, its arguments converted to Python by a compiled converter), without the wrapper.
        make_info, convert, call = direct
        constant = _constant_arguments(field_def, node) if has_args else None

        def execute_resolver(run: Run, source: Any, parent_path: Path | None):
            path = Path(parent_path, fp.response_name, fp.parent_name)
            try:
                info = make_info(run.info(fp, path)) if make_info is not None else None
                if constant is not None:
                    kwargs = convert(constant)
                else:
                    kwargs = convert(get_argument_values(field_def, node, run.variables)) if has_args else {}
                if run.recorded is not None:
                    return finish(run, _recording(run.recorded, tuple(path.as_list()), call, source, info, kwargs), path)
                return finish(run, call(source, info, **kwargs), path)
            except Exception as raw:
                handle_error(run, raw, return_type, path)
                return None

        return execute_resolver

    if resolve is None:
        # graphql-core's default_field_resolver.
        field_name = fp.field_name

        def resolve(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
            value = source.get(field_name) if isinstance(source, Mapping) else getattr(source, field_name, None)
            if callable(value):
                return value(info, **args)
            return value

    def execute(run: Run, source: Any, parent_path: Path | None):  # type: ignore[no-redef]
        path = Path(parent_path, fp.response_name, fp.parent_name)
        info = run.info(fp, path)
        try:
            args = get_argument_values(field_def, node, run.variables) if has_args else {}
            if run.recorded is not None:
                return finish(run, _recording(run.recorded, tuple(path.as_list()), resolve, source, info, args), path)
            return finish(run, resolve(source, info, **args), path)
        except Exception as raw:
            handle_error(run, raw, return_type, path)
            return None

    return execute


_NO_VARIABLES = VariableValues({}, {})
_BUILT_IN_SCALARS = (GraphQLString, GraphQLInt, GraphQLFloat, GraphQLBoolean, GraphQLID)


def _constant_arguments(field_def: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
    """The field's coerced arguments, once for every request, where they cannot differ between
    requests: written without a variable, and of types whose coerced values are immutable or
    rebuilt by the compiled conversion (built-in scalars, enums, input objects and lists of
    them; not a custom scalar, whose value a resolver might change). None otherwise, and where
    coercing fails: each request then coerces, and reports the error where it happens."""
    if any(_has_variable(argument.value) for argument in node.arguments or ()):
        return None
    if not all(_rebuilt_input(argument.type, set()) for argument in field_def.args.values()):
        return None
    try:
        return get_argument_values(field_def, node, _NO_VARIABLES)
    except Exception:  # noqa: BLE001 - left to each request
        return None


def _has_variable(value) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(f.value) for f in value.fields)
    return False


def _rebuilt_input(type_, seen: set[str]) -> bool:
    named = get_named_type(type_)
    if is_enum_type(named) or named in _BUILT_IN_SCALARS:
        return True
    if is_input_object_type(named):
        if named.name in seen:
            return True
        seen.add(named.name)
        return all(_rebuilt_input(f.type, seen) for f in named.fields.values())
    return False


def _direct_call(strawberry_field, field_def: GraphQLField, schema: GraphQLSchema):
    """(make_info, convert, call) for a strawberry resolver that can be called directly, else None.

    Only where strawberry's wrapper would add nothing but what is compiled here: no field
    extensions, no exception handlers that could turn an error into a result, arguments of types
    app.executor.arguments converts."""
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    if strawberry_field is None or strawberry_schema is None:
        return None
    resolver = strawberry_field.base_resolver
    if resolver is None or strawberry_field.extensions:
        return None
    converter = strawberry_schema.schema_converter
    if converter._get_field_exception_handlers(strawberry_field):
        return None
    try:
        convert = compile_arguments(strawberry_field, converter.scalar_registry, strawberry_schema.config)
    except Unsupported:
        return None
    info_class = strawberry_schema.config.info_class
    function = resolver.wrapped_func
    takes_self = resolver.self_parameter is not None
    names = {p.name for p in (resolver.info_parameter, resolver.parent_parameter, resolver.root_parameter) if p}
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    source_names = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
    if len(names) != len([p for p in (resolver.info_parameter, resolver.parent_parameter, resolver.root_parameter) if p]):
        return None  # one parameter in two roles: leave it to strawberry

    if info_name is None:
        make_info = None  # the resolver takes no Info: none is built per call
    else:

        def make_info(raw: GraphQLResolveInfo):
            return info_class(_raw_info=raw, _field=strawberry_field)

    def call(source: Any, info: Any, **kwargs: Any) -> Any:
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info
        return function(source, **kwargs) if takes_self else function(**kwargs)

    return make_info, convert, call


def _recording(recorded: dict, key: tuple, resolve, source, info, args):
    """Calls a resolver and keeps what it returned or raised (the differential check's replay)."""
    try:
        result = resolve(source, info, **args)
    except Exception as error:
        recorded[key] = error
        raise
    if not is_awaitable(result):
        recorded[key] = result
        return result

    async def keep():
        try:
            value = await result
        except Exception as error:
            recorded[key] = error
            raise
        recorded[key] = value
        return value

    return keep()


# --- completing --------------------------------------------------------------------------------


def _non_null_completer(inner, fp: FieldPlan):
    message = fp.null_message

    def complete(run: Run, result: Any, path: Path):
        if isinstance(result, Exception):
            raise result
        completed = inner(run, result, path)
        if completed is None:
            raise TypeError(message)
        return completed

    complete.inner = inner  # type: ignore[attr-defined]  # read by _inline_leaf
    return complete


def _leaf_completer(leaf_type):
    coerce = leaf_type.coerce_output_value

    def generic(result: Any) -> Any:
        coerced = coerce(result)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(leaf_type)}.coerce_output_value({inspect(result)})`"
                f" to return non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    # The built-in scalars' common case without a call; anything else takes the generic path.
    if leaf_type is GraphQLString:

        def complete(run: Run, result: Any, path: Path):
            if type(result) is str:
                return result
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            return generic(result)

    elif leaf_type is GraphQLInt:

        def complete(run: Run, result: Any, path: Path):
            if type(result) is int and _MIN_INT <= result <= _MAX_INT:
                return result
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            return generic(result)

    elif leaf_type is GraphQLBoolean:

        def complete(run: Run, result: Any, path: Path):
            if type(result) is bool:
                return result
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            return generic(result)

    elif leaf_type is GraphQLFloat:

        def complete(run: Run, result: Any, path: Path):
            if type(result) is float and math.isfinite(result):
                return result
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            return generic(result)

    elif leaf_type is GraphQLID:

        def complete(run: Run, result: Any, path: Path):
            if isinstance(result, str):  # strawberry.ID is a str subclass; graphql-core returns it as is
                return result
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            return generic(result)

    elif is_enum_type(leaf_type):
        # An enum's output for a value never changes: each value is looked up once.
        names: dict[tuple[type, Any], str] = {}

        def complete(run: Run, result: Any, path: Path):
            try:
                return names[type(result), result]  # by type too: "A" and Tag.A are equal, not the same
            except (KeyError, TypeError):
                pass
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            coerced = generic(result)
            if isinstance(result, Enum):
                names[type(result), result] = coerced
                # By identity too, for the inline check (an Enum's __hash__ is Python code): the
                # member is kept alive by `names`, so its id names no other object.
                names_by_id[id(result)] = coerced
            return coerced

        names_by_id: dict[int, str] = {}
        complete.enum_names = names_by_id  # type: ignore[attr-defined]  # read by _inline_leaf

    else:

        def complete(run: Run, result: Any, path: Path):
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            return generic(result)

    return complete


def _async_tails(complete, handle_error, value_type):
    """The two asynchronous ends of completing a value (a field's, or a list item's): awaiting what
    a resolver returned and then its completion, or awaiting a completion alone; either way an
    error is handled at `path` as graphql-core would."""

    async def complete_awaitable(run: Run, awaitable, path: Path):
        try:
            resolved = await awaitable
            completed = complete(run, resolved, path)
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw:
            handle_error(run, raw, value_type, path)
            return None
        return completed

    async def await_completed(run: Run, completed, path: Path):
        try:
            return await completed
        except Exception as raw:
            handle_error(run, raw, value_type, path)
            return None

    return complete_awaitable, await_completed


def _list_completer(item_complete, item_type, fp: FieldPlan):
    handle_error = fp.handle_error
    list_message_prefix = "Expected Iterable, but did not find one for field"
    complete_awaitable_item, await_item = _async_tails(item_complete, handle_error, item_type)
    new_path, known_awaitable = tuple.__new__, _AWAITABLE_TYPES.get
    # Items whose whole selection is plain attribute reads complete in one loop, or one call each
    # (see _inline_functions); any item they do not take is completed below as usual.
    inline, inline_all = getattr(item_complete, "inline", None), getattr(item_complete, "inline_all", None)

    def complete(run: Run, result: Any, path: Path):
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        if hasattr(result, "__aiter__"):
            raise Unsupported("an async iterable as a list value")
        if not is_iterable(result):
            raise GraphQLError(f"{list_message_prefix} '{fp.parent_name}.{fp.field_name}'.")
        if inline_all is not None and type(result) is list:
            completed_results: list[Any] = inline_all(result)
            index = len(completed_results)
            if index == len(result):
                return completed_results
            iterator = iter(result[index:])
        else:
            completed_results, index, iterator = [], 0, iter(result)
        append = completed_results.append
        awaitable_indices: list[int] = []
        try:
            for item in iterator:
                if inline is not None:
                    completed = inline(item)
                    if completed is not _MISS:
                        append(completed)
                        index += 1
                        continue
                item_path = new_path(Path, (path, index, None))  # Path(...) without its Python __new__
                if known_awaitable(type(item)) is not False and is_awaitable(item):
                    append(complete_awaitable_item(run, item, item_path))
                    awaitable_indices.append(index)
                else:
                    try:
                        completed = item_complete(run, item, item_path)
                        if type(completed) is not dict and is_awaitable(completed):
                            append(await_item(run, completed, item_path))
                            awaitable_indices.append(index)
                        else:
                            append(completed)
                    except Exception as raw:
                        handle_error(run, raw, item_type, item_path)
                        append(None)
                index += 1
        except Exception:
            pending = [completed_results[i] for i in awaitable_indices]
            pending.extend(item for item in iterator if is_awaitable(item))
            if pending:
                run.settle_in_background(pending)
            raise
        if not awaitable_indices:
            return completed_results
        return _gather_list(completed_results, awaitable_indices)

    return complete


async def _gather_list(completed_results: list, awaitable_indices: list[int]) -> list:
    if len(awaitable_indices) == 1:
        index = awaitable_indices[0]
        completed_results[index] = await completed_results[index]
    else:
        awaited = await gather_with_cancel(*(completed_results[i] for i in awaitable_indices))
        for index, value in zip(awaitable_indices, awaited):
            completed_results[index] = value
    return completed_results


def _object_completer(object_type: GraphQLObjectType, fp: FieldPlan, compiler: _Compiler, sub_sets, *, non_null=False):
    fields = compiler.selection(object_type, sub_sets)
    is_type_of = object_type.is_type_of

    if is_type_of is None:
        return _fields_function(fields, object_type.name, complete_object=True, null_message=fp.null_message if non_null else None)

    execute_fields = _fields_function(fields, object_type.name, complete_object=False)

    def complete(run: Run, result: Any, path: Path):
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        matches = is_type_of(result, run.info(fp, path))
        if is_awaitable(matches):
            return _check_then_execute(run, matches, execute_fields, result, path, object_type, fp)
        if not matches:
            raise _invalid_return_type(object_type, result, fp)
        return execute_fields(run, result, path)

    return complete


async def _check_then_execute(run, matches, execute_fields, result, path, object_type, fp):
    if not await matches:
        raise _invalid_return_type(object_type, result, fp)
    sub = execute_fields(run, result, path)
    if is_awaitable(sub):
        return await sub
    return sub


def _invalid_return_type(object_type, result, fp: FieldPlan) -> GraphQLError:
    return GraphQLError(f"Expected value of type '{object_type.name}' but got: {inspect(result)}.", fp.nodes)


# --- executing selection sets ------------------------------------------------------------------


# A leaf value that the inline check did not accept: the field's own executor then runs it.
_MISS = object()


def _inline_leaf(fp: FieldPlan, names: dict[str, Any], i: int | str) -> str:
    """An expression completing `v` (the attribute just read) as `fp`'s scalar or enum, or
    evaluating to _MISS wherever graphql-core would do anything but return a value unchanged:
    the field's executor then reads and completes it, errors and all."""
    leaf = get_named_type(fp.return_type)
    complete = fp.complete
    nullable = "v is None or " if not fp.non_null else ""
    if leaf is GraphQLString:
        return f"v if {nullable}type(v) is str else _MISS"
    if leaf is GraphQLID:  # held as str (strawberry.ID is one), or as the int a record holds: str(v), as serialize_id
        return f"v if {nullable}type(v) is str else (str(v) if type(v) is int else _MISS)"
    if leaf is GraphQLInt:
        return f"v if {nullable}(type(v) is int and {_MIN_INT} <= v <= {_MAX_INT}) else _MISS"
    if leaf is GraphQLBoolean:
        return f"v if {nullable}type(v) is bool else _MISS"
    if leaf is GraphQLFloat:
        return f"v if {nullable}(type(v) is float and _isfinite(v)) else _MISS"
    enum_names = getattr(getattr(complete, "inner", complete), "enum_names", None)
    if enum_names is not None:
        # The completer's cache of each enum member's name by identity (filled on its first completion).
        names[f"n{i}"] = enum_names
        if fp.non_null:
            return f"n{i}.get(id(v), _MISS)"
        return f"None if v is None else n{i}.get(id(v), _MISS)"
    # Any other scalar (DateTime, JSON): its own serialiser, called directly; whatever the generic
    # completer would treat otherwise (an error, an awaitable, null out) takes the field's executor.
    names[f"s{i}"] = leaf.coerce_output_value
    serialised = (
        f"(c if v is not None and v is not Undefined and not isinstance(v, Exception)"
        " and (_known_awaitable(type(v)) is False or not is_awaitable(v))"
        f" and (c := s{i}(v)) is not None and c is not Undefined else _MISS)"
    )
    generic = f"None if v is None else {serialised}" if not fp.non_null else serialised
    # A serialiser may say how to write its usual values inline: (a condition on `v`, an
    # expression giving what it would return, the names both use); app.gql.serialize_datetime.
    inline = getattr(leaf.coerce_output_value, "inline", None)
    if inline is None:
        return generic
    condition, expression, inline_names = inline
    names.update(inline_names)
    return f"({expression} if {condition} else ({generic}))"


def _fields_function(fields: list[FieldPlan], type_name: str, *, complete_object: bool, null_message: str | None = None):
    """_execute_fields for one selection set as one generated function. Fields read from a plain
    attribute are done inline, without a call per field: a scalar or enum completed by a check of
    its value, an object or list completed by its completer (what the field's executor does, less
    its two calls); every other field, and any leaf value not accepted as is, goes through the
    field's executor.

    With `complete_object` it is the whole object completer (`source` an error, null, or the
    object), and with `null_message` that of a non-null position (null raises, as
    _non_null_completer does). tests/executor compares every response with graphql-core's."""
    names: dict[str, Any] = {
        "_MISS": _MISS,
        "_isfinite": math.isfinite,
        "is_awaitable": is_awaitable,
        "CoroutineType": CoroutineType,
        "Undefined": Undefined,
        "Path": Path,
        "_new_path": tuple.__new__,
        "_known_awaitable": _AWAITABLE_TYPES.get,
        "_plain_object": _PLAIN_OBJECT_TYPES.get,
        "_not_plain_object": _not_plain_object,
        "_gather_fields": _gather_fields,
        "null_message": null_message,
    }
    function_name = f"fields_{_identifier(type_name)}"
    lines = [f"def {function_name}(run, source, path):"]
    if complete_object:
        lines += [
            "    if isinstance(source, Exception):",
            "        raise source",
            "    if source is None or source is Undefined:",
            "        raise TypeError(null_message)" if null_message is not None else "        return None",
        ]
    lines += ["    results = {}", "    aw = []", "    try:"]
    for i, fp in enumerate(fields):
        key = repr(fp.response_name)
        names[f"x{i}"] = fp.execute
        if fp.field_name == "__typename":
            lines.append(f"        results[{key}] = {fp.parent_name!r}")
            continue
        if fp.attribute:
            lines += [
                "        try:",
                f"            v = {_read(fp.attribute, names, i)}",
                f"            c = {_inline_leaf(fp, names, i)}",
                "        except Exception:",
                "            c = _MISS",
                "        if c is not _MISS:",
                f"            results[{key}] = c",
                "        else:",
                f"            r = x{i}(run, source, path)",
                f"            results[{key}] = r",
                "            if r is not None and is_awaitable(r):",
                f"                aw.append({key})",
            ]
            continue
        if fp.object_attribute:
            # The field's executor (execute, then finish) for a plain attribute, inline.
            names[f"c{i}"] = fp.complete
            names[f"ta{i}"], names[f"tc{i}"] = fp.tails
            names[f"h{i}"] = fp.handle_error
            names[f"t{i}"] = fp.return_type
            lines += [
                f"        p = _new_path(Path, (path, {key}, {fp.parent_name!r}))",
                "        try:",
                f"            v = {_read(fp.object_attribute, names, i)}",
                "            if _known_awaitable(type(v)) is not False and is_awaitable(v):",
                f"                r = ta{i}(run, v, p)",
                "            else:",
                f"                r = c{i}(run, v, p)",
                "                if r is not None and type(r) is not dict and is_awaitable(r):",
                f"                    r = tc{i}(run, r, p)",
                "        except Exception as raw:",
                f"            h{i}(run, raw, t{i}, p)",
                "            r = None",
                f"        results[{key}] = r",
                "        if r is not None and type(r) is not dict and is_awaitable(r):",
                f"            aw.append({key})",
            ]
            continue
        lines += [
            f"        r = x{i}(run, source, path)",
            f"        results[{key}] = r",
            "        if type(r) is CoroutineType or (r is not None and is_awaitable(r)):",
            f"            aw.append({key})",
        ]
    if not fields:
        lines.append("        pass")  # every field skipped: an empty object
    lines += [
        "    except Exception:",
        "        if aw:",
        "            run.settle_in_background([results[n] for n in aw])",
        "        raise",
        "    if not aw:",
        "        return results",
        "    return _gather_fields(results, aw)",
    ]
    nullable = null_message is None
    inline_lines = _inline_functions(fields, type_name, names, nullable=nullable) if complete_object else None
    if inline_lines:
        lines += inline_lines
    exec("\n".join(lines), names)  # noqa: S102 - source built above from names checked here
    completer = names[function_name]
    if inline_lines:
        completer.inline = names[f"inline_{_identifier(type_name)}"]
        completer.inline_all = names[f"inline_all_{_identifier(type_name)}"]
        completer.inline_fields = (fields, nullable)  # written in place by a parent's inline code
    return completer


def _inline_functions(fields: list[FieldPlan], type_name: str, names: dict[str, Any], *, nullable: bool) -> list[str] | None:
    """Source of `inline_<type>(source)`: the whole completed object (a dict, or None for a null
    source in a nullable position) when every field of the selection is read from a plain
    attribute and accepted inline, recursively through plain object attributes (whose code is
    written in place, not called); _MISS as soon as anything is not, before anything but attribute
    reads has happened, so that the caller then completes it the ordinary way (errors, paths and
    all). None when the selection has a field that is not a plain read (a resolver, a list): there
    is no such function.

    And of `inline_all_<type>(items)`, for a list of such objects (a page's edges and their
    nodes): the same for each item in one loop, with no call, Path or per-field call per item. It
    returns the completed items up to the first it does not take, which the list completer then
    completes as usual, and the rest after it."""
    body = _inline_object(fields, "source", names, "", "return _MISS", " " * 8)
    if body is None:
        return None
    identifier = _identifier(type_name)
    return [
        "",
        f"def inline_{identifier}(source):",
        "    if source is None:",
        "        return None" if nullable else "        return _MISS",
        "    try:",
        *body,
        "    except Exception:",
        "        return _MISS",
        "    return d",
        "",
        f"def inline_all_{identifier}(items):",
        "    out = []",
        "    append = out.append",
        "    for source in items:",
        "        if source is None:",
        *(["            append(None)", "            continue"] if nullable else ["            return out"]),
        "        try:",
        *_inline_object(fields, "source", names, "", "return out", " " * 12),
        "        except Exception:",
        "            return out",
        "        append(d)",
        "    return out",
    ]


def _inline_object(fields: list[FieldPlan], source: str, names: dict[str, Any], tag: str, miss: str, indent: str):
    """Lines (at `indent`) completing the object in the variable `source` (not None) into the
    variable `d<tag>`, running `miss` where _inline_functions gives up; None where it cannot."""
    lines = [
        f"{indent}if _plain_object(type({source})) is not True and _not_plain_object({source}):",
        f"{indent}    {miss}",
    ]
    parts = []
    for i, fp in enumerate(fields):
        key, at = repr(fp.response_name), f"{tag}_{i}"
        if fp.field_name == "__typename":
            parts.append(f"{key}: {fp.parent_name!r}")
            continue
        if fp.attribute:
            lines += [
                f"{indent}v = {_read(fp.attribute, names, at, source)}",
                f"{indent}c{at} = {_inline_leaf(fp, names, at)}",
                f"{indent}if c{at} is _MISS:",
                f"{indent}    {miss}",
            ]
            parts.append(f"{key}: c{at}")
            continue
        child = getattr(fp.complete, "inline_fields", None) if fp.object_attribute else None
        if child is None:
            return None
        child_fields, child_nullable = child
        child_lines = _inline_object(child_fields, f"o{at}", names, at, miss, indent + "    ")
        if child_lines is None:
            return None
        lines += [
            f"{indent}o{at} = {_read(fp.object_attribute, names, at, source)}",
            f"{indent}if o{at} is None:",
            f"{indent}    c{at} = None" if child_nullable else f"{indent}    {miss}",
            f"{indent}else:",
            *child_lines,
            f"{indent}    c{at} = d{at}",
        ]
        parts.append(f"{key}: c{at}")
    lines.append(f"{indent}d{tag} = {{{', '.join(parts)}}}")
    return lines


def _read(attribute: str, names: dict[str, Any], i: int | str, source: str = "source") -> str:
    """The expression reading `attribute` of `source`."""
    if attribute.isidentifier() and not keyword.iskeyword(attribute) and not attribute.startswith("__"):
        return f"{source}.{attribute}"
    names[f"a{i}"] = attribute
    return f"getattr({source}, a{i})"


def _identifier(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def _execute_fields(run: Run, fields: list[FieldPlan], source: Any, path: Path | None):
    results: dict[str, Any] = {}
    awaitable_names: list[str] = []
    try:
        for fp in fields:
            result = fp.execute(run, source, path)
            results[fp.response_name] = result
            if type(result) is CoroutineType or (result is not None and is_awaitable(result)):
                awaitable_names.append(fp.response_name)
    except Exception:
        if awaitable_names:
            run.settle_in_background([results[name] for name in awaitable_names])
        raise
    if not awaitable_names:
        return results
    return _gather_fields(results, awaitable_names)


async def _gather_fields(results: dict, awaitable_names: list[str]) -> dict:
    if len(awaitable_names) == 1:
        name = awaitable_names[0]
        results[name] = await results[name]
    else:
        awaited = await gather_with_cancel(*(results[name] for name in awaitable_names))
        results.update(zip(awaitable_names, awaited))
    return results


def _execute_serially(run: Run, fields: list[FieldPlan], source: Any):
    """Mutation root fields, one after the other (graphql-core's async_reduce)."""
    results: dict[str, Any] = {}
    for position, fp in enumerate(fields):
        result = fp.execute(run, source, None)
        if is_awaitable(result):
            return _continue_serially(run, fields, position, result, results, source)
        results[fp.response_name] = result
    return results


async def _continue_serially(run, fields, position, pending, results, source):
    results[fields[position].response_name] = await pending
    for fp in fields[position + 1 :]:
        result = fp.execute(run, source, None)
        if is_awaitable(result):
            result = await result
        results[fp.response_name] = result
    return results
