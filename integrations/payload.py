"""Typed reads of a provider's JSON payload: anything not shaped as the provider sends
it raises MalformedPayload (the webhook answers 400 and stores nothing)."""

from .channel import MalformedPayload


def as_dict(value: object, name: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{name} is not an object")
    return value


def dict_at(obj: dict, key: str) -> dict:
    if key not in obj:
        raise MalformedPayload(f"missing {key}")
    return as_dict(obj[key], key)


def list_at(obj: dict, key: str) -> list:
    value = obj.get(key)
    if not isinstance(value, list):
        raise MalformedPayload(f"{key} is not a list")
    return value


def int_at(obj: dict, key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedPayload(f"{key} is not an integer")
    return value


def float_at(obj: dict, key: str) -> float:
    value = obj.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise MalformedPayload(f"{key} is not a number")
    return float(value)


def str_at(obj: dict, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise MalformedPayload(f"{key} is not a string")
    return value


def opt_str_at(obj: dict, key: str) -> str:
    """A string that may be missing or null ("" then)."""
    return "" if obj.get(key) is None else str_at(obj, key)
