"""Assembles Query, Mutation and Subscription from the features' GraphQL modules."""

from strawberry.tools import merge_types

from app.gql import AppSchema, MaskUnexpectedErrors
from app.teams import graphql as teams

Query = merge_types("Query", (teams.Query,))
Mutation = merge_types("Mutation", (teams.Mutation,))

schema = AppSchema(query=Query, mutation=Mutation, extensions=[MaskUnexpectedErrors])
