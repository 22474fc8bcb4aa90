"""Stateless codes and tokens: signed values, with revocations and used codes in the cache.

Every kind has its own salt, so a value of one kind (say an authorization code) is never
accepted as another (an access token). Each value carries its issue time ``iat`` and a
random nonce ``n``; lifetimes are checked against :func:`now`, which tests can replace.
"""

import secrets
import time

from django.core import signing
from django.core.cache import cache

# How long a "used" mark for a single-use code is kept: longer than any code lives.
USED_CODE_TTL = 10 * 60


def now() -> float:
    return time.time()


def _salt(kind: str) -> str:
    return f"sandbox.{kind}"


def issue(kind: str, **claims) -> str:
    payload = {**claims, "iat": now(), "n": secrets.token_urlsafe(9)}
    return signing.dumps(payload, salt=_salt(kind), compress=True)


def read(kind: str, value: str, *, max_age: float | None = None) -> dict | None:
    """The claims of a value of this kind, or None if forged, of another kind or too old."""
    if not value:
        return None
    try:
        payload = signing.loads(value, salt=_salt(kind))
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("iat"), int | float):
        return None
    if max_age is not None and now() - payload["iat"] > max_age:
        return None
    return payload


def use_once(kind: str, payload: dict) -> bool:
    """Mark a single-use value as used; False if it already was."""
    return cache.add(f"sandbox:used:{kind}:{payload['n']}", now(), USED_CODE_TTL)


def revoke(subject: str) -> float:
    """Invalidate every token issued for ``subject`` until now."""
    at = now()
    cache.set(f"sandbox:revoked:{subject}", at, None)
    return at


def revoked_at(subject: str) -> float | None:
    return cache.get(f"sandbox:revoked:{subject}")


def is_revoked(subject: str, issued_at: float) -> bool:
    at = revoked_at(subject)
    return at is not None and issued_at <= at
