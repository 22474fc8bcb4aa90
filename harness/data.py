"""What the fault harness and the benchmark set up and send: an admin of an account
of their own, a Telegram channel, and Telegram's update for a customer's text."""

import json
import time

ADMIN_EMAIL = "ops@harness.example"
ADMIN_PASSWORD = "harness-password-0123456789"  # a throwaway account
SECRET = "fault-harness-telegram-secret"


def admin_account(name: str):
    """A signed-up, verified admin of a new account called ``name``: (user, account)."""
    from allauth.account.models import EmailAddress

    from accounts.models import Account, Membership, Role, User

    user = User.objects.create_user(email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    EmailAddress.objects.create(user=user, email=ADMIN_EMAIL, verified=True, primary=True)
    account = Account.objects.create(name=name)
    Membership.objects.create(user=user, account=account, role=Role.ADMIN)
    return user, account


def telegram_channel(workspace, *, name: str, bot_id: str, bot_token: str, username: str):
    """A Telegram channel whose webhooks carry SECRET."""
    from channels.models import Channel

    channel = Channel(workspace=workspace, kind="telegram", name=name, identity=bot_id)
    channel.credentials_data = {
        "bot_token": bot_token,
        "secret_token": SECRET,
        "bot_id": bot_id,
        "bot_username": username,
    }
    channel.save()
    return channel


def telegram_update(*, update_id: int, message_id: int, customer: int, text: str) -> bytes:
    """Telegram's update for a text from ``customer`` in their private chat."""
    person = {"id": customer, "is_bot": False, "first_name": f"C{customer}"}
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": message_id,
                "from": person,
                "chat": {"id": customer, "type": "private", "first_name": f"C{customer}"},
                "date": int(time.time()),
                "text": text,
            },
        }
    ).encode()
