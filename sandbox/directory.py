"""The sandbox's fake provider directory: who a developer can sign in as."""

import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class IntercomAdmin:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class IntercomWorkspace:
    id_code: str
    name: str
    region: str
    timezone: str
    created_at: int
    admins: tuple[IntercomAdmin, ...]


@dataclass(frozen=True)
class HubSpotInbox:
    id: str
    name: str
    type: str = "INBOX"  # or HELP_DESK


@dataclass(frozen=True)
class HubSpotAgent:
    """A HubSpot user who answers in the portal's inbox."""

    user_id: int
    name: str
    email: str

    @property
    def actor_id(self) -> str:
        # HubSpot's actor ids name the kind of actor: A- agents, V- visitors, I- apps.
        return f"A-{self.user_id}"


@dataclass(frozen=True)
class HubSpotPortal:
    hub_id: int
    hub_domain: str
    user: str
    user_id: int
    inboxes: tuple[HubSpotInbox, ...] = ()
    agents: tuple[HubSpotAgent, ...] = ()


INTERCOM_WORKSPACES: tuple[IntercomWorkspace, ...] = (
    IntercomWorkspace(
        id_code="sbx-acme",
        name="Acme Support",
        region="US",
        timezone="America/New_York",
        created_at=1_700_000_000,
        admins=(
            IntercomAdmin("1001", "Ada Admin", "ada@acme.example"),
            IntercomAdmin("1002", "Ben Agent", "ben@acme.example"),
        ),
    ),
    IntercomWorkspace(
        id_code="sbx-globex",
        name="Globex Help Desk",
        region="US",
        timezone="America/Los_Angeles",
        created_at=1_700_100_000,
        admins=(
            IntercomAdmin("2001", "Gina Globex", "gina@globex.example"),
            IntercomAdmin("2002", "Hank Helper", "hank@globex.example"),
        ),
    ),
    IntercomWorkspace(
        id_code="sbx-initech",
        name="Initech Care",
        region="US",
        timezone="America/Chicago",
        created_at=1_700_200_000,
        admins=(
            IntercomAdmin("3001", "Ian Initech", "ian@initech.example"),
            IntercomAdmin("3002", "Joan Support", "joan@initech.example"),
        ),
    ),
)

# What the consent screen says the app may do (Intercom apps tick these in the
# Developer Hub; they are not passed in the authorize URL).
INTERCOM_PERMISSIONS: tuple[str, ...] = (
    "Read and write conversations",
    "Read and write users and companies (contacts)",
    "Read admins",
)

HUBSPOT_PORTALS: tuple[HubSpotPortal, ...] = (
    HubSpotPortal(
        9000001,
        "acme-sandbox.hubspot.com",
        "ada@acme.example",
        5100001,
        inboxes=(
            HubSpotInbox("147000101", "Acme Support"),
            HubSpotInbox("147000102", "Acme Sales"),
        ),
        agents=(
            HubSpotAgent(5100001, "Ada Admin", "ada@acme.example"),
            HubSpotAgent(5100011, "Ben Agent", "ben@acme.example"),
        ),
    ),
    HubSpotPortal(
        9000002,
        "globex-sandbox.hubspot.com",
        "gina@globex.example",
        5100002,
        inboxes=(
            HubSpotInbox("147000201", "Globex Help Desk", "HELP_DESK"),
            HubSpotInbox("147000202", "Globex Inbox"),
        ),
        agents=(
            HubSpotAgent(5100002, "Gina Globex", "gina@globex.example"),
            HubSpotAgent(5100012, "Hank Helper", "hank@globex.example"),
        ),
    ),
    HubSpotPortal(
        9000003,
        "initech-sandbox.hubspot.com",
        "ian@initech.example",
        5100003,
        inboxes=(
            HubSpotInbox("147000301", "Initech Care"),
            HubSpotInbox("147000302", "Initech Billing"),
        ),
        agents=(
            HubSpotAgent(5100003, "Ian Initech", "ian@initech.example"),
            HubSpotAgent(5100013, "Joan Support", "joan@initech.example"),
        ),
    ),
)
# The id HubSpot gives the (fake) public app, reported by the token-info endpoint.
HUBSPOT_APP_ID = 7000001
# The developer account's API key (hapikey): custom channels are registered with it,
# not with a portal's OAuth token (PROVIDERS.md §2.2).
HUBSPOT_DEVELOPER_API_KEY = "5a0d1e2f-0c7b-4e4a-9f31-5b0c5a4d0001"
# The app's custom channel, registered from the start so a laptop needs no setup call;
# channels created through the API get ids of their own.
HUBSPOT_CHANNEL_ID = 4000001


def intercom_workspace(id_code: str) -> IntercomWorkspace | None:
    return next((w for w in INTERCOM_WORKSPACES if w.id_code == id_code), None)


def hubspot_portal(hub_id: int) -> HubSpotPortal | None:
    return next((p for p in HUBSPOT_PORTALS if p.hub_id == hub_id), None)


def hubspot_inbox(portal: HubSpotPortal, inbox_id) -> HubSpotInbox | None:
    return next((i for i in portal.inboxes if i.id == str(inbox_id)), None)


def hubspot_agent(portal: HubSpotPortal, user_id) -> HubSpotAgent | None:
    return next((a for a in portal.agents if str(a.user_id) == str(user_id)), None)


# --- Channel providers ------------------------------------------------------------------
# Credentials a developer pastes into Add channel; the sandbox's provider APIs accept
# these and refuse anything else with the provider's own error shape.


@dataclass(frozen=True)
class TelegramBot:
    token: str  # "<bot id>:<secret>", as BotFather gives it
    first_name: str
    username: str

    @property
    def id(self) -> int:
        return int(self.token.split(":", 1)[0])


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


TELEGRAM_BOTS: tuple[TelegramBot, ...] = (
    TelegramBot(
        "7000000001:AAHsandbox-acme-support-bot-token01", "Acme Support", "acme_support_bot"
    ),
    TelegramBot("7000000002:AAHsandbox-globex-help-bot-token002", "Globex Help", "globex_help_bot"),
)

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


def telegram_bot(token: str) -> TelegramBot | None:
    return next(
        (b for b in TELEGRAM_BOTS if hmac.compare_digest(b.token.encode(), token.encode())), None
    )


def telegram_bot_by_id(bot_id: str) -> TelegramBot | None:
    return next((b for b in TELEGRAM_BOTS if str(b.id) == bot_id), None)


def whatsapp_number(phone_number_id: str) -> WhatsAppNumber | None:
    return next((n for n in WHATSAPP_NUMBERS if n.phone_number_id == phone_number_id), None)


def messenger_page(page_id: str) -> MessengerPage | None:
    return next((p for p in MESSENGER_PAGES if p.page_id == page_id), None)


def twilio_account(account_sid: str) -> TwilioAccount | None:
    return next((a for a in TWILIO_ACCOUNTS if a.account_sid == account_sid), None)


def twilio_number(sid: str) -> tuple[TwilioAccount, TwilioNumber] | None:
    return next(((a, n) for a in TWILIO_ACCOUNTS for n in a.numbers if n.sid == sid), None)
