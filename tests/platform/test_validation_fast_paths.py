"""The fast paths of email and phone cleaning give exactly what the full validation gives
(email-validator, phonenumbers), for generated values: the same result or the same refusal."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import AppError
from app.validation import clean_email, clean_phone, clean_text

LOCAL_CHARS = "abcxyz019._+-!#$%&'*/=?^`{|}~\"(),:;<>@[\\] AZé"
DOMAIN_CHARS = "abcz09.-_AZé"
SPECIAL = ["test", "local", "localhost", "invalid", "onion", "arpa", "example", "com", "xn--p1ai", "co--uk", "1"]


@st.composite
def emails(draw) -> str:
    local = draw(st.text(LOCAL_CHARS, min_size=0, max_size=70))
    labels = draw(st.lists(st.text(DOMAIN_CHARS, min_size=0, max_size=64), min_size=1, max_size=4))
    tail = draw(st.sampled_from(SPECIAL + [""]))
    domain = ".".join(labels + ([tail] if tail else []))
    return draw(st.sampled_from([f"{local}@{domain}", f"{local}{domain}", f"{local}@@{domain}", f"{local}@{domain}".upper()]))


@st.composite
def plain_ish_emails(draw) -> str:
    """Mostly addresses of the fast path's shape, with the edge cases near its borders."""
    local = draw(st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,70}", fullmatch=True))
    labels = draw(st.lists(st.from_regex(r"[a-z0-9-]{1,64}", fullmatch=True), min_size=1, max_size=3))
    tail = draw(st.sampled_from(SPECIAL + ["museum", "x", "a1", "io"]))
    value = f"{local}@{'.'.join(labels)}.{tail}"
    return draw(st.sampled_from([value, value, value, value.upper(), value + ".", value.replace("@", "@.")]))


def _slow_email(value: str) -> str | None:
    try:
        text = clean_text(value, field="email", max_length=10_000)
    except AppError:
        return "REFUSED"
    if text is None:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return "REFUSED"


def _cleaned(function, value: str) -> str | None:
    try:
        return function(value)
    except AppError:
        return "REFUSED"


@settings(max_examples=3000, deadline=None)
@given(st.one_of(plain_ish_emails(), plain_ish_emails(), emails(), st.text(max_size=40)))
def test_plain_email_fast_path_agrees_with_email_validator(value):
    if len(" ".join(value.split())) > 254:
        return  # refused for its length before either validation
    assert _cleaned(clean_email, value) == _slow_email(value), value


def _slow_phone(value: str) -> str | None:
    try:
        text = clean_text(value, field="phone", max_length=10_000)
    except AppError:
        return "REFUSED"
    if text is None:
        return None
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return "REFUSED"
    if not phonenumbers.is_valid_number(number):
        return "REFUSED"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(
    st.from_regex(r"\+1[0-9]{10}", fullmatch=True),
    st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"\+[0-9]{8,14}", fullmatch=True),
    st.from_regex(r"\(?[0-9]{3}\)? ?[0-9]{3}-[0-9]{4}", fullmatch=True),
    st.text("+0123456789 -()", max_size=16),
))
def test_e164_phone_fast_path_agrees_with_phonenumbers(value):
    assert _cleaned(clean_phone, value) == _slow_phone(value), value
