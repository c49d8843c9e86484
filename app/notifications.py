"""Emails to users: queued inside the transaction that decided to send them, sent by a worker.

With SMTP_HOST unset (the embedded default) an email is written to the log instead of sent.
A failed send is retried with backoff (1 s, 2 s, 4 s, ...); after the last retry the job stays
in the queue as failed. Delivery is at least once: a worker that dies after the SMTP server
accepted the email but before the job was marked done sends it again.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from email.message import EmailMessage

import aiosmtplib
from tortoise.backends.base.client import BaseDBAsyncClient

from app import jobs
from app.settings import Settings

log = logging.getLogger(__name__)

SEND_EMAIL = "send_email"
SEND_RETRIES = 8  # about four minutes of backoff in all


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


async def queue_email(conn: BaseDBAsyncClient, email: Email) -> None:
    """Sends `email` after `conn`'s transaction commits (never, if it rolls back)."""
    await jobs.enqueue(conn, SEND_EMAIL, asdict(email))


def build_message(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message.set_content(email.body)
    return message


async def send_email(email: Email, settings: Settings) -> None:
    message = build_message(email, settings.smtp_from)
    if not settings.smtp_host:
        log.info("SMTP_HOST is not set; email not sent:\n%s", message)
        return
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_start_tls,
        timeout=30,
    )
    log.info("emailed %s: %s", email.to, email.subject)


@jobs.task(SEND_EMAIL, retries=SEND_RETRIES)
async def _send_queued_email(payload: dict, ctx: jobs.JobContext) -> None:
    await send_email(Email(**payload), ctx.settings)
