"""The request pipeline: GraphQL over HTTP and websockets, refusing hostile work before doing it.

- http.py        GET/POST /graphql: body cap, JSON, content negotiation, statuses, GraphiQL (app.web)
                 (websockets are app.live, which prepares and executes through this pipeline)
- core.py        the stages shared by both, cheapest first, up to the seam
- documents.py   the bounded cache of parsed, measured, validated documents (also the APQ store)
- analysis.py    depth, aliases, cost and the visibility an operation needs
- execution.py   THE SEAM: the one place an operation is executed
- errors.py      refusals, error codes, masking of unexpected errors
- ratelimit.py   per-token budgets with `limits`
"""
