from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership
from channels.models import Channel
from workspaces.models import Provider, Status, Workspace
from workspaces.selectors import workspace_rows_for_account

pytestmark = pytest.mark.django_db


def add_workspaces(cast, count, **fields):
    return Workspace.objects.bulk_create(
        Workspace(
            account=cast.account,
            provider=Provider.INTERCOM if i % 2 else Provider.HUBSPOT,
            external_id=f"ext-{i}",
            name=f"Workspace {i:03}",
            connected_by=cast.admin if i % 3 else cast.member,
            **fields,
        )
        for i in range(count)
    )


def test_the_welcome_state_has_the_seed_words(cast):
    html = cast.admin_client.get("/").content.decode()
    assert "Thanks for signing up!" in html
    assert "Step 1 of 2" in html
    assert "Connect Intercom" in html
    assert "Link your Intercom workspace" in html
    assert "Connect HubSpot" in html
    assert html.count(">Connect</button>") == 2
    assert "Only admins can connect workspaces" not in html


def test_members_see_the_page_without_connect_buttons(cast):
    html = cast.member_client.get("/").content.decode()
    assert "Thanks for signing up!" in html
    assert "Connect Intercom" in html
    assert "Only admins can connect workspaces" in html
    assert ">Connect</button>" not in html


def test_rows_show_name_provider_added_by_status_and_last_updated(cast):
    workspace = Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="acme-app",
        name="Acme Intercom",
        connected_by=cast.admin,
    )
    html = cast.member_client.get("/").content.decode()
    assert "Thanks for signing up!" not in html
    assert f'href="/workspaces/{workspace.pk}/"' in html
    assert "Acme Intercom" in html
    assert "<td>Intercom</td>" in html
    assert "admin@acme.test" in html
    assert '<span class="badge status-active">Active</span>' in html
    assert workspace.updated_at.strftime("%Y-%m-%d %H:%M") in html
    assert "Add another workspace" in html
    # Never another account's workspace.
    assert "Globex Intercom" not in html


def test_other_statuses_look_different(cast):
    Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="1",
        name="Off",
        status=Status.DISCONNECTED,
    )
    Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="2",
        name="Stale",
        status=Status.NEEDS_RECONNECT,
    )
    html = cast.admin_client.get("/").content.decode()
    assert '<span class="badge status-disconnected">Disconnected</span>' in html
    assert '<span class="badge status-needs_reconnect">Needs reconnect</span>' in html


# The rows as the page's template printed them before {% workspace_rows %} (an include
# and a {% url %} per row), kept to compare.
ROWS_BEFORE = (Path(__file__).parent / "rows_before.html").read_text()


@pytest.mark.parametrize("role", ["admin", "member"])
@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
def test_a_row_is_the_markup_the_template_printed(cast, role, zone):
    add_workspaces(cast, 3)
    Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="off",
        name='<Off> & "gone"',
        status=Status.DISCONNECTED,
    )
    Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="stale",
        name="Stale",
        status=Status.NEEDS_RECONNECT,
        connected_by=cast.member,
    )
    Workspace.objects.filter(account=cast.account).update(
        updated_at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    )
    # The page's rows are the selector's (plain values); the template of before had
    # model instances.
    context = {
        "workspaces": workspace_rows_for_account(account=cast.account),
        "current_membership": Membership.objects.get(
            account=cast.account, user__email__startswith=role
        ),
        "csrf_token": "a-masked-token",
    }
    whole = list(Workspace.objects.filter(account=cast.account).select_related("connected_by"))
    whole.sort(key=lambda w: (w.name, w.pk))
    with timezone.override(ZoneInfo(zone)):
        before = Template(ROWS_BEFORE).render(Context({**context, "workspaces": whole}))
        after = Template("{% load workspace_rows %}{% workspace_rows workspaces %}").render(
            Context(context)
        )
    # The same markup; only the indentation differs (a run of white space shows as one).
    assert after.split() == before.split()
    assert after.count("<tr>") == 5
    assert ("Reconnect" in after) == (role == "admin")


def test_the_page_shows_a_banner_for_each_workspace_to_reconnect(cast):
    add_workspaces(cast, 3)
    stale = Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="stale",
        name="Stale",
        status=Status.NEEDS_RECONNECT,
    )
    html = cast.member_client.get("/").content.decode()
    assert html.count('class="banner warn"') == 1
    assert (
        "Stale needs reconnecting: Intercom no longer accepts Octopods' access.\n"
        f'        <a href="/workspaces/{stale.pk}/">Open it to reconnect</a>.</p>'
    ) in html


def count_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_the_page_runs_a_constant_number_of_queries(cast):
    client = cast.admin_client
    client.get("/")  # the first request of a session also stores the current account
    add_workspaces(cast, 1)
    one = count_queries(client, "/")
    Workspace.objects.filter(account=cast.account).delete()
    add_workspaces(cast, 200)
    two_hundred = count_queries(client, "/")
    assert two_hundred == one
    # The user, the user's memberships (the current one and the account switcher's),
    # the workspaces; the session comes from the cache.
    assert one == 3
    html = client.get("/").content.decode()
    assert html.count('href="/workspaces/') == 200


def test_the_workspace_page_shows_its_facts_and_step_2(cast):
    workspace = add_workspaces(cast, 1)[0]
    response = cast.member_client.get(f"/workspaces/{workspace.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert workspace.name in html
    assert "HubSpot" in html
    assert "member@acme.test" in html
    assert "Active" in html
    assert "Step 2 of 2: add your first channel" in html


def test_the_workspace_page_lists_its_channels(cast):
    workspace = add_workspaces(cast, 1)[0]
    Channel.objects.create(workspace=workspace, kind="telegram", name="Support bot")
    html = cast.admin_client.get(f"/workspaces/{workspace.pk}/").content.decode()
    assert "Support bot" in html
    assert "Telegram" in html
    assert "Step 2 of 2" not in html


def test_another_accounts_workspace_is_a_404(cast):
    response = cast.admin_client.get(f"/workspaces/{cast.other_workspace.pk}/")
    assert response.status_code == 404
    assert "Globex" not in response.content.decode()


def test_connect_is_for_admins_only(cast):
    assert cast.member_client.post("/connect/intercom/").status_code == 403
    response = cast.admin_client.post("/connect/intercom/")
    assert response.status_code == 302
    assert response["Location"].startswith(settings.INTERCOM_AUTHORIZE_URL)
    assert cast.admin_client.post("/connect/zendesk/").status_code == 404
    assert cast.admin_client.get("/connect/intercom/").status_code == 405


def test_a_member_promoted_to_admin_gets_the_buttons(cast):
    Membership.objects.filter(user=cast.member).update(role="admin")
    assert ">Connect</button>" in cast.member_client.get("/").content.decode()


def test_admins_choose_which_matching_contact_gets_messages(cast):
    from django.urls import reverse

    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="m1", name="Acme"
    )
    page = cast.admin_client.get(reverse("workspaces:detail", args=[workspace.pk]))
    assert "The most recently updated contact" in page.content.decode()
    url = reverse("workspaces:contact_match", args=[workspace.pk])
    assert cast.admin_client.post(url, {"contact_match": "lead"}).status_code == 302
    workspace.refresh_from_db()
    assert workspace.contact_match == "lead"
    cast.admin_client.post(url, {"contact_match": "everyone"})
    workspace.refresh_from_db()
    assert workspace.contact_match == "lead"
    member_page = cast.member_client.get(reverse("workspaces:detail", args=[workspace.pk]))
    assert "a lead before a user when several contacts" in member_page.content.decode()


def render_rows(cast, role, token, zone="UTC"):
    context = {
        "workspaces": workspace_rows_for_account(account=cast.account),
        "current_membership": Membership.objects.get(
            account=cast.account, user__email__startswith=role
        ),
        "csrf_token": token,
    }
    with timezone.override(ZoneInfo(zone)):
        return Template("{% load workspace_rows %}{% workspace_rows workspaces %}").render(
            Context(context)
        )


def test_rows_that_did_not_change_are_built_once_and_carry_each_requests_token(cast):
    """The rows are kept by what they are made of (octopods.html.kept_rows); the CSRF
    input is the request's own every time."""
    from workspaces.templatetags.workspace_rows import rendered_rows

    add_workspaces(cast, 3, status=Status.NEEDS_RECONNECT)
    rendered_rows.cache_clear()
    first = render_rows(cast, "admin", "token-one")
    second = render_rows(cast, "admin", "token-two")
    assert rendered_rows.cache_info().hits == 1
    assert first.count('value="token-one"') == 3 and "token-two" not in first
    assert second.count('value="token-two"') == 3 and "token-one" not in second
    assert second.replace("token-two", "token-one") == first


@pytest.mark.parametrize(
    "change",
    [
        lambda cast: Workspace.objects.filter(name="Workspace 001").update(status=Status.ACTIVE),
        lambda cast: Workspace.objects.filter(name="Workspace 001").update(name="Renamed"),
        lambda cast: Workspace.objects.filter(name="Workspace 001").update(
            updated_at=datetime(2030, 1, 1, tzinfo=UTC)
        ),
        lambda cast: Workspace.objects.create(
            account=cast.account, provider=Provider.INTERCOM, external_id="new", name="New"
        ),
    ],
    ids=["status", "name", "updated", "added"],
)
def test_any_change_to_the_rows_builds_them_again(cast, change):
    from workspaces.templatetags.workspace_rows import rendered_rows

    add_workspaces(cast, 3, status=Status.NEEDS_RECONNECT)
    rendered_rows.cache_clear()
    before = render_rows(cast, "admin", "t")
    change(cast)
    after = render_rows(cast, "admin", "t")
    assert rendered_rows.cache_info().misses == 2
    assert after != before


def test_the_viewers_zone_and_role_are_part_of_what_is_kept(cast):
    add_workspaces(cast, 2, status=Status.NEEDS_RECONNECT)
    admin_utc = render_rows(cast, "admin", "t")
    member_utc = render_rows(cast, "member", "t")
    admin_newfoundland = render_rows(cast, "admin", "t", zone="America/St_Johns")
    assert "Reconnect" in admin_utc and "Reconnect" not in member_utc
    assert "UTC" in admin_utc
    assert "NST" in admin_newfoundland or "NDT" in admin_newfoundland
