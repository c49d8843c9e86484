"""Assembles Query, Mutation and Subscription from the features' GraphQL modules."""

from strawberry.tools import merge_types

from app.gql import AppSchema, MaskUnexpectedErrors
from app.leads import graphql as leads
from app.mass_end import graphql as mass_end
from app.missing_reps import graphql as missing_reps
from app.teams import graphql as teams

Query = merge_types("Query", (teams.Query, mass_end.Query))
Mutation = merge_types("Mutation", (teams.Mutation, leads.Mutation, mass_end.Mutation))
Subscription = merge_types("Subscription", (missing_reps.Subscription, mass_end.Subscription))

schema = AppSchema(
    query=Query, mutation=Mutation, subscription=Subscription, extensions=[MaskUnexpectedErrors]
)
