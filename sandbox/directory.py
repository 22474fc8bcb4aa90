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
class HubSpotPortal:
    hub_id: int
    hub_domain: str
    user: str
    user_id: int


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
    HubSpotPortal(9000001, "acme-sandbox.hubspot.com", "ada@acme.example", 5100001),
    HubSpotPortal(9000002, "globex-sandbox.hubspot.com", "gina@globex.example", 5100002),
    HubSpotPortal(9000003, "initech-sandbox.hubspot.com", "ian@initech.example", 5100003),
)
# The id HubSpot gives the (fake) public app, reported by the token-info endpoint.
HUBSPOT_APP_ID = 7000001


def intercom_workspace(id_code: str) -> IntercomWorkspace | None:
    return next((w for w in INTERCOM_WORKSPACES if w.id_code == id_code), None)


def hubspot_portal(hub_id: int) -> HubSpotPortal | None:
    return next((p for p in HUBSPOT_PORTALS if p.hub_id == hub_id), None)
