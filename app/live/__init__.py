"""Live GraphQL over websockets: the protocols, and the fan-out that executes each event once.

- protocol.py: one websocket connection, in graphql-transport-ws or the legacy graphql-ws
  subprotocol: connection_init (with a timeout), authentication, operations, limits.
- fanout.py: subscribers whose subscription is the same (document, operation, variables, and
  what the caller may see) share one group: one source stream, each event executed once and
  encoded once; each socket gets those bytes with its own subscription id spliced in.
- outbox.py: each connection's bounded send buffer; state streams coalesce in it, and a
  consumer that stays behind is closed.
- guard.py: re-checks every second that the tokens of open connections are still live and
  their roles unchanged, and closes the sockets of those that are not.
"""
