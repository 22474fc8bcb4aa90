"""Encryption of secrets at rest (provider tokens, channel credentials).

MultiFernet over ``settings.TOKEN_ENCRYPTION_KEYS``: the first key encrypts, every key
decrypts, so keys rotate without downtime (prepend a key, deploy, run
``manage.py rotate_encryption_keys``, drop the old key). The keys are separate from
SECRET_KEY so that leaking one does not expose the other.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is empty: no key to encrypt secrets.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEYS must be url-safe base64 Fernet keys (32 bytes each)."
        ) from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as error:
        # Never include the value: it may be a secret stored before encryption.
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS."
        ) from error


def _clear_cache(*, setting, **kwargs):
    if setting == "TOKEN_ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_clear_cache)


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code only sees the plaintext.

    Empty strings and NULL are stored as they are (nothing secret to hide). Lookups on
    the column cannot work, since each encryption of the same value differs.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def encrypted_fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
