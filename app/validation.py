"""Input cleaning shared by every feature: one way to validate any text, an id, a name, an email,
a phone."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from app.errors import bad_input

DEFAULT_PHONE_REGION = "US"
MAX_NAME = 200
MAX_EMAIL = 254  # RFC 5321's limit on a forward path
MAX_PHONE = 64  # generous for any written form of an E.164 number (at most 15 digits)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

# Characters that show nothing: whitespace, controls, zero-width and directional marks, fillers,
# variation selectors, tags. A string made only of these names nothing a person could read.
_ONLY_INVISIBLE = re.compile(
    "[\\s\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U000e0000-\U000e007f]+"
)
_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, only a lone one can be left

INT4_MAX = 2_147_483_647  # ids are PostgreSQL int4 (serial) columns


def check_text(value: str, field: str) -> str:
    """Every string input, once: no NUL (PostgreSQL refuses it), no lone surrogate (not
    Unicode), not only invisible characters. The empty string is left to each field's rule."""
    if "\x00" in value:
        raise bad_input(f"{field} must not contain NUL characters.", field=field)
    if _SURROGATE.search(value):
        raise bad_input(f"{field} contains a lone surrogate, which is not valid Unicode.", field=field)
    if value and _ONLY_INVISIBLE.fullmatch(value):
        raise bad_input(f"{field} must contain visible characters.", field=field)
    return value


def id_number(value: object) -> int | None:
    """The row id an ID names: ASCII decimal digits inside the int4 range, else None.

    ("١" is a digit to str.isdigit, and "²" too; neither names a row.)"""
    text = str(value)
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= INT4_MAX else None


def alphanumerics(text: str) -> str:
    """`text` (already lower case) without anything but ASCII letters and digits."""
    return _NON_ALNUM.sub("", text)


def clean_text(
    value: str | None, *, field: str, max_length: int, required: bool = False, one_line: bool = True
) -> str | None:
    """The one cleaner every string input passes: surrounding white space dropped, and inside a
    one-line value (a name, a reason) every run of white space made one space. Empty is None, or
    BAD_USER_INPUT when `required`; too long is BAD_USER_INPUT, never cut."""
    text = " ".join((value or "").split()) if one_line else (value or "").strip()
    if not text:
        if required:
            raise bad_input(f"{field} must not be empty.", field=field)
        return None
    check_text(text, field)  # the pipeline checked already; callers outside it (the CLI) too
    if len(text) > max_length:
        raise bad_input(f"{field} must be at most {max_length} characters.", field=field)
    return text


def aware_datetime(value: datetime | None) -> datetime | None:
    """A time input, timezone-aware: one written without an offset is read as UTC (the zone of
    every time the API returns)."""
    if value is None or value.utcoffset() is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def normalize_name(name: str) -> str:
    """The form names are compared in: case, accents, punctuation and extra spaces ignored.

    "STEPHEN  smith", "Stephen Smith." and "Stéphen Smith" all become "stephen smith".
    """
    decomposed = unicodedata.normalize("NFKD", name)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", without_marks.casefold()).strip()


def clean_name(value: str | None, *, field: str = "name", required: bool = True) -> str | None:
    name = clean_text(value, field=field, max_length=MAX_NAME, required=required)
    if name is not None and not normalize_name(name):
        raise bad_input(f"{field} must contain letters or digits.", field=field)
    return name


# The common case of an email, already normalised: lower-case ASCII dot-atom, a host name whose
# labels are letters, digits and inner hyphens (none with "--", which may be Punycode), ending in
# a letter. email-validator accepts each such address unchanged unless it is too long or under a
# special-use domain, which _is_plain_email also leaves to it. tests/platform/test_validation.py
# proves it against email-validator.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[a-z0-9_!#$%&'*+/=?^`{|}~-]+(?:\.[a-z0-9_!#$%&'*+/=?^`{|}~-]+)*)"
    r"@(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z])?)"
)
_E164_NANP = re.compile(r"\+1[2-9][0-9]{9}")


def _is_plain_email(value: str) -> bool:
    match = _PLAIN_EMAIL.fullmatch(value)
    if match is None or len(value) > 254 or len(match["local"]) > 64 or "--" in match["domain"]:
        return False
    domain = match["domain"]
    return not any(domain == special or domain.endswith("." + special) for special in SPECIAL_USE_DOMAIN_NAMES)


def clean_email(value: str | None, *, field: str = "email") -> str | None:
    """A syntactically valid email, lower-cased; None when empty."""
    value = clean_text(value, field=field, max_length=MAX_EMAIL)
    if value is None:
        return None
    if _is_plain_email(value):
        return value  # email-validator would accept it and give it back unchanged
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise bad_input(f"{field} is not a valid email address: {exc}", field=field) from None
    return result.normalized.lower()


def clean_phone(value: str | None, *, field: str = "phone") -> str | None:
    """A valid phone number in E.164 (+15551234567); None when empty. National numbers: US."""
    value = clean_text(value, field=field, max_length=MAX_PHONE)
    if value is None:
        return None
    if _E164_NANP.fullmatch(value) and phonenumbers.is_valid_number_for_region(
        phonenumbers.PhoneNumber(country_code=1, national_number=int(value[2:])), DEFAULT_PHONE_REGION
    ):
        # Already E.164 and a valid US number: what parsing and formatting it would give back.
        return value
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise bad_input(f"{field} is not a phone number.", field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise bad_input(f"{field} is not a valid phone number.", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
