"""The sandbox's fake provider directory: who a developer can sign in as."""

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
