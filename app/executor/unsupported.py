"""What the compiled executor does not handle: the operation runs on graphql-core instead."""


class Unsupported(Exception):
    """The operation uses something the compiler does not handle: run it with graphql-core."""
