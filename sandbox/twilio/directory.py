"""Twilio's fake accounts and their numbers."""

from dataclasses import dataclass

# Credentials a developer pastes into Add channel; the sandbox's provider APIs accept
# these and refuse anything else with the provider's own error shape.


@dataclass(frozen=True)
class TwilioNumber:
    sid: str  # PN…
    phone_number: str  # E.164
    friendly_name: str


@dataclass(frozen=True)
class TwilioAccount:
    account_sid: str  # AC + 32 hex
    auth_token: str  # 32 hex; also signs the sandbox's webhooks (X-Twilio-Signature)
    numbers: tuple[TwilioNumber, ...]


TWILIO_ACCOUNTS: tuple[TwilioAccount, ...] = (
    TwilioAccount(
        account_sid="AC5a0d1e2f3a4b5c6d7e8f90a1b2c3d4e5",
        auth_token="9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        numbers=(
            TwilioNumber("PN0a1b2c3d4e5f60718293a4b5c6d7e8f9", "+15550002222", "Acme SMS"),
            TwilioNumber("PN1a1b2c3d4e5f60718293a4b5c6d7e8f9", "+15550003333", "Acme SMS 2"),
        ),
    ),
)


def twilio_account(account_sid: str) -> TwilioAccount | None:
    return next((a for a in TWILIO_ACCOUNTS if a.account_sid == account_sid), None)


def twilio_number(sid: str) -> tuple[TwilioAccount, TwilioNumber] | None:
    return next(((a, n) for a in TWILIO_ACCOUNTS for n in a.numbers if n.sid == sid), None)
