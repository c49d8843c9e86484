"""The one error type for expected failures; its code becomes `extensions.code`."""

from enum import Enum


class ErrorCode(str, Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    ACCOUNT_PAUSED = "ACCOUNT_PAUSED"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    # Refusals before execution (the request pipeline), with Apollo Server's names where it has one.
    BAD_REQUEST = "BAD_REQUEST"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"


class AppError(Exception):
    """An expected failure: shown to the client as is, never masked, never logged as a crash.

    graphql-core copies `extensions` from the original exception onto the GraphQL error.
    """

    def __init__(self, code: ErrorCode, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = {"code": code.value, **details}


def not_found(what: str) -> AppError:
    return AppError(ErrorCode.NOT_FOUND, f"{what} was not found.")


def bad_input(message: str, **details: object) -> AppError:
    return AppError(ErrorCode.BAD_USER_INPUT, message, **details)


def conflict(message: str, **details: object) -> AppError:
    return AppError(ErrorCode.CONFLICT, message, **details)


CONFIRMATION_WORD = "CONFIRM"


def require_confirmation(confirmation: str) -> None:
    """The one confirmation check for destructive actions: exactly CONFIRM, all caps."""
    if confirmation != CONFIRMATION_WORD:
        raise AppError(
            ErrorCode.CONFIRMATION_REQUIRED,
            f'Type "{CONFIRMATION_WORD}" (all caps, nothing else) to confirm this action.',
        )
