"""Input cleaning shared by every feature: one way to validate a name, an email, a phone."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.errors import bad_input

DEFAULT_PHONE_REGION = "US"
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize_name(name: str) -> str:
    """The form names are compared in: case, accents, punctuation and extra spaces ignored.

    "STEPHEN  smith", "Stephen Smith." and "Stéphen Smith" all become "stephen smith".
    """
    decomposed = unicodedata.normalize("NFKD", name)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", without_marks.casefold()).strip()


def clean_name(value: str | None, *, field: str = "name", required: bool = True) -> str | None:
    name = " ".join((value or "").split())
    if not name:
        if required:
            raise bad_input(f"{field} must not be empty.", field=field)
        return None
    if len(name) > 200:
        raise bad_input(f"{field} must be at most 200 characters.", field=field)
    if not normalize_name(name):
        raise bad_input(f"{field} must contain letters or digits.", field=field)
    return name


def clean_email(value: str | None, *, field: str = "email") -> str | None:
    """A syntactically valid email, lower-cased; None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise bad_input(f"{field} is not a valid email address: {exc}", field=field) from None
    return result.normalized.lower()


def clean_phone(value: str | None, *, field: str = "phone") -> str | None:
    """A valid phone number in E.164 (+15551234567); None when empty. National numbers: US."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise bad_input(f"{field} is not a phone number.", field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise bad_input(f"{field} is not a valid phone number.", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
