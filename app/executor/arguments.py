"""Strawberry's argument conversion (graphql-core's coerced values -> Python values: input
classes, lists, enums), compiled once per argument type instead of interpreted per value.

It mirrors strawberry.types.arguments.convert_argument for the types it covers; anything else
(Maybe, GlobalID, input types with their own from_input) raises Unsupported at compile time and
the field keeps strawberry's own wrapper. On ingestLeads' 500 leads strawberry's interpretation
was 38% of the server's CPU (py-spy, bench/ingest.py).
"""

from __future__ import annotations

from dataclasses import MISSING
from typing import Any, Callable

from strawberry.scalars import is_scalar
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from app.executor.unsupported import Unsupported

Converter = Callable[[Any], Any]


def _is_leaf(type_, registry) -> bool:
    if isinstance(type_, LazyType):
        type_ = type_.resolve_type()
    return is_scalar(type_, registry) or isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_)


def _same(value: Any) -> Any:
    return value


def compile_converter(type_, registry, config) -> Converter:
    """A function doing what convert_argument(value, type_, ...) does."""
    if isinstance(type_, StrawberryMaybe):
        raise Unsupported("Maybe arguments")
    if isinstance(type_, StrawberryOptional):
        return compile_converter(type_.of_type, registry, config)  # None and UNSET pass through below
    if isinstance(type_, LazyType):
        return compile_converter(type_.resolve_type(), registry, config)
    if isinstance(type_, StrawberryList):
        of_type = type_.of_type
        leaf_items = _is_leaf(of_type, registry) or (
            isinstance(of_type, StrawberryOptional) and _is_leaf(of_type.of_type, registry)
        )
        if leaf_items:
            def convert_leaf_list(value: Any) -> Any:
                if value is None or value is UNSET:
                    return value
                return list(value)  # a copy: graphql-core shares a default between requests

            return convert_leaf_list
        item = compile_converter(of_type, registry, config)

        def convert_list(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            return [item(x) for x in value]

        return convert_list
    if _is_leaf(type_, registry):
        from strawberry.relay.types import GlobalID

        if type_ is GlobalID:
            raise Unsupported("GlobalID arguments")
        return _same
    if has_object_definition(type_):
        definition = type_.__strawberry_definition__
        if definition.from_input is not None:
            raise Unsupported("input types with from_input")
        implicit = (
            {f.python_name: None for f in definition.fields if f.default_value is MISSING and f.default_factory is MISSING}
            if definition.is_input
            else {}
        )
        fields = [
            (config.name_converter.from_field(f), f.python_name,
             compile_converter(f.resolve_type(type_definition=definition), registry, config))
            for f in definition.fields
        ]
        cls = type_

        def convert_object(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            kwargs = dict(implicit)
            for graphql_name, python_name, convert in fields:
                if graphql_name in value:
                    kwargs[python_name] = convert(value[graphql_name])
            return cls(**kwargs)

        return convert_object
    raise Unsupported(f"argument type {type_!r}")


def compile_arguments(strawberry_field, registry, config) -> Callable[[dict], dict]:
    """convert_arguments for one field: GraphQL argument values -> the resolver's keyword arguments."""
    plan = [
        (config.name_converter.from_argument(argument), argument.python_name,
         compile_converter(argument.type, registry, config))
        for argument in strawberry_field.arguments
    ]

    def convert(values: dict) -> dict:
        return {python: convert(values[name]) for name, python, convert in plan if name in values}

    return convert
