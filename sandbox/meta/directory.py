"""Meta's fake app, WhatsApp numbers, Facebook Pages and Instagram accounts."""

from dataclasses import dataclass

# Credentials a developer pastes into Add channel; the sandbox's provider APIs accept
# these and refuse anything else with the provider's own error shape.


@dataclass(frozen=True)
class MetaApp:
    """The Meta app both WhatsApp and Messenger channels use in the sandbox: its secret
    signs the sandbox's webhook POSTs (X-Hub-Signature-256)."""

    app_id: str
    app_secret: str


@dataclass(frozen=True)
class WhatsAppNumber:
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    access_token: str


@dataclass(frozen=True)
class MessengerPage:
    page_id: str
    name: str
    page_access_token: str


META_APP = MetaApp(app_id="300000000000001", app_secret="5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b")


WHATSAPP_NUMBERS: tuple[WhatsAppNumber, ...] = (
    WhatsAppNumber(
        phone_number_id="100000000000001",
        waba_id="200000000000001",
        display_phone_number="+1 555-000-1111",
        verified_name="Acme Support",
        access_token="EAAsandboxWhatsAppAcmeAccessToken0001",
    ),
    WhatsAppNumber(
        phone_number_id="100000000000002",
        waba_id="200000000000002",
        display_phone_number="+44 7700 900222",
        verified_name="Globex Help",
        access_token="EAAsandboxWhatsAppGlobexAccessToken002",
    ),
)


MESSENGER_PAGES: tuple[MessengerPage, ...] = (
    MessengerPage("400000000000001", "Acme Support", "EAAsandboxMessengerAcmePageToken00001"),
    MessengerPage("400000000000002", "Globex Help", "EAAsandboxMessengerGlobexPageToken0002"),
)


@dataclass(frozen=True)
class InstagramAccount:
    """An Instagram professional account and the Facebook Page it is linked to: the
    Page's token sends and subscribes; ``account_id`` is the account's id (``entry.id``
    and ``recipient.id`` of its webhooks)."""

    account_id: str
    username: str
    page: MessengerPage


INSTAGRAM_ACCOUNTS: tuple[InstagramAccount, ...] = (
    InstagramAccount(
        "17841400000000001",
        "acme.shop",
        MessengerPage("400000000000011", "Acme Shop", "EAAsandboxInstagramAcmePageToken0001"),
    ),
    InstagramAccount(
        "17841400000000002",
        "globex.style",
        MessengerPage("400000000000012", "Globex Style", "EAAsandboxInstagramGlobexPageToken02"),
    ),
)

# Every Page a Page token may speak for: the Messenger ones (no Instagram account linked)
# and the Pages linked to an Instagram account.
FACEBOOK_PAGES: tuple[MessengerPage, ...] = MESSENGER_PAGES + tuple(
    account.page for account in INSTAGRAM_ACCOUNTS
)


def whatsapp_number(phone_number_id: str) -> WhatsAppNumber | None:
    return next((n for n in WHATSAPP_NUMBERS if n.phone_number_id == phone_number_id), None)


def messenger_page(page_id: str) -> MessengerPage | None:
    return next((p for p in MESSENGER_PAGES if p.page_id == page_id), None)


def facebook_page(page_id: str) -> MessengerPage | None:
    """Any Page of the directory, linked to an Instagram account or not."""
    return next((p for p in FACEBOOK_PAGES if p.page_id == page_id), None)


def instagram_account(account_id: str) -> InstagramAccount | None:
    return next((a for a in INSTAGRAM_ACCOUNTS if a.account_id == account_id), None)


def linked_instagram_account(page: MessengerPage) -> InstagramAccount | None:
    """The Instagram account linked to ``page``, if any."""
    return next((a for a in INSTAGRAM_ACCOUNTS if a.page == page), None)
