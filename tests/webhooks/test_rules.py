"""The delivery rules that are easiest to see in isolation: backoff, Retry-After, what is retried,
which addresses are public, and the signature a receiver checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook

from app.settings import Settings
from app.webhooks import delivery, secrets
from app.webhooks.delivery import Message, Outcome, backoff_seconds, classify, next_state, parse_retry_after
from app.webhooks.models import DeliveryState
from app.webhooks.targets import is_public


def test_backoff_grows_fourfold_with_jitter_between_half_and_all_and_is_capped():
    assert [backoff_seconds(n, 5.0, rng=lambda lo, hi: hi) for n in (1, 2, 3, 4)] == [5.0, 20.0, 80.0, 320.0]
    assert [backoff_seconds(n, 5.0, rng=lambda lo, hi: lo) for n in (1, 2, 3)] == [2.5, 10.0, 40.0]
    assert backoff_seconds(30, 5.0, rng=lambda lo, hi: hi) == delivery.RETRY_CAP_SECONDS
    for n in range(1, 12):
        assert 0.5 * min(5 * 4 ** (n - 1), delivery.RETRY_CAP_SECONDS) <= backoff_seconds(n, 5.0) <= min(5 * 4 ** (n - 1), delivery.RETRY_CAP_SECONDS)


def test_the_default_schedule_spans_more_than_a_day_of_retries():
    """With the defaults a delivery is tried for over a day (at the shortest jitter: half of it),
    so an endpoint that is down for a day is disabled before its deliveries run out."""
    settings = Settings()
    longest = sum(backoff_seconds(n, settings.webhook_retry_base_seconds, rng=lambda lo, hi: hi) for n in range(1, settings.webhook_max_attempts))
    assert longest > settings.webhook_disable_after_seconds


def test_retry_after_is_read_as_seconds_or_a_date():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Tue, 01 Dec 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Tue, 01 Dec 2026 11:00:00 GMT", now) == 0.0
    for unreadable in (None, "", "soon", "-5", "1.5e9x"):
        assert parse_retry_after(unreadable, now) is None


@pytest.mark.parametrize(
    "status, delivered, retryable",
    [(200, True, False), (204, True, False), (301, False, False), (400, False, False), (401, False, False),
     (404, False, False), (410, False, False), (429, False, True), (500, False, True), (502, False, True), (503, False, True)],
)
def test_only_network_errors_5xx_and_429_are_retried(status, delivered, retryable):
    outcome = classify(status, None, None)
    assert (outcome.delivered, outcome.retryable) == (delivered, retryable)


def test_a_retry_after_is_honoured_and_the_last_attempt_fails_for_good():
    settings = Settings(webhook_max_attempts=3, webhook_retry_base_seconds=1.0)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    busy = Outcome(delivered=False, retryable=True, status_code=429, retry_after=42.0)
    assert next_state(Message(1, 0, "msg_1", "{}"), busy, settings, now) == (DeliveryState.PENDING, now + timedelta(seconds=42))
    assert next_state(Message(1, 2, "msg_1", "{}"), busy, settings, now) == (DeliveryState.FAILED, None)
    state, at = next_state(Message(1, 1, "msg_1", "{}"), Outcome(False, True), settings, now)
    assert state == DeliveryState.PENDING and now + timedelta(seconds=2) <= at <= now + timedelta(seconds=4)


@pytest.mark.parametrize(
    "address, public",
    [("93.184.215.14", True), ("8.8.8.8", True), ("2606:4700::1111", True),
     ("127.0.0.1", False), ("127.9.9.9", False), ("10.0.0.1", False), ("172.31.255.255", False), ("192.168.0.1", False),
     ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("255.255.255.255", False),
     ("::1", False), ("::", False), ("fe80::1%eth0", False), ("fc00::1", False), ("::ffff:10.0.0.1", False),
     ("::ffff:93.184.215.14", True), ("192.0.2.1", False)],
)
def test_which_addresses_may_receive_webhooks(address, public):
    assert is_public(address) is public


def test_signed_headers_verify_with_the_receivers_verifier():
    secret = secrets.new_secret()
    body = '{"type":"lead.created","timestamp":"2026-12-01T00:00:00Z","data":{}}'
    headers = delivery.signed_headers(Webhook(secret), "msg_1", body, datetime.now(timezone.utc))
    assert Webhook(secret).verify(body, headers) == {"type": "lead.created", "timestamp": "2026-12-01T00:00:00Z", "data": {}}
    with pytest.raises(Exception):
        Webhook(secrets.new_secret()).verify(body, headers)
    with pytest.raises(Exception):
        Webhook(secret).verify(body.replace("lead", "fake"), headers)


def test_secrets_encrypt_with_the_first_key_and_decrypt_with_any(tmp_path):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = secrets.encrypt("whsec_abc", Settings(webhook_secret_keys=old))
    assert secrets.decrypt(token, Settings(webhook_secret_keys=f"{new},{old}")) == "whsec_abc"
    with pytest.raises(RuntimeError):
        secrets.decrypt(token, Settings(webhook_secret_keys=new))


def test_without_keys_the_embedded_setup_keeps_one_in_the_data_folder(tmp_path):
    settings = Settings(webhook_secret_keys=None, database_url=None, data_dir=tmp_path)
    token = secrets.encrypt("whsec_abc", settings)
    assert (tmp_path / "webhook-secret-keys").stat().st_mode & 0o777 == 0o600
    assert secrets.decrypt(token, Settings(webhook_secret_keys=None, database_url=None, data_dir=tmp_path)) == "whsec_abc"


def test_with_an_external_database_the_keys_must_be_set(tmp_path):
    from app.errors import AppError

    with pytest.raises(AppError):
        secrets.encrypt("whsec_abc", Settings(webhook_secret_keys=None, database_url="postgres://db/x", data_dir=tmp_path))
