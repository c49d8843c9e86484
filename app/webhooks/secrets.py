"""Webhook signing secrets: made here, shown once, kept encrypted (Fernet) with keys from settings.

WEBHOOK_SECRET_KEYS holds one or more Fernet keys, comma-separated: the first encrypts, every
one decrypts, so keys can be rotated. With it unset and the database embedded (a single
machine), a key is created once in DATA_DIR; with an external database every process must share
the keys, so they must be set.
"""

from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.errors import AppError, ErrorCode
from app.settings import Settings

SECRET_PREFIX = "whsec_"
_SECRET_BYTES = 32
_KEY_FILE = "webhook-secret-keys"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def _keys(settings: Settings) -> str:
    if settings.webhook_secret_keys:
        return settings.webhook_secret_keys
    if settings.database_url:
        raise AppError(
            ErrorCode.CONFLICT,
            "Webhooks need WEBHOOK_SECRET_KEYS (Fernet keys shared by every process) with an external database.",
        )
    path = Path(settings.data_dir) / _KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once keep the first one's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(Fernet.generate_key().decode())
    return path.read_text().strip()


@lru_cache(maxsize=8)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])


def encrypt(secret: str, settings: Settings) -> str:
    return _fernet(_keys(settings)).encrypt(secret.encode()).decode()


def decrypt(token: str, settings: Settings) -> str:
    try:
        return _fernet(_keys(settings)).decrypt(token.encode()).decode()
    except InvalidToken:
        raise RuntimeError("a webhook secret cannot be decrypted: WEBHOOK_SECRET_KEYS lost its key") from None
