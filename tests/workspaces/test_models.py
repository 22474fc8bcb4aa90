import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from octopods import crypto
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db

TOKEN = "dG9rLXBsYWludGV4dC1zZWNyZXQ"


def raw_columns(pk):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM workspaces_workspace WHERE id = %s", [pk]
        )
        return cursor.fetchone()


def test_a_provider_workspace_belongs_to_one_account_only(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Workspace.objects.create(
            account=cast.account,
            provider=Provider.INTERCOM,
            external_id=cast.other_workspace.external_id,
            name="Same app, other account",
        )
    # The same id on the other provider is a different workspace.
    Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id=cast.other_workspace.external_id,
        name="A HubSpot portal",
    )


def test_the_stored_column_holds_no_plaintext(cast):
    workspace = Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="42",
        name="Portal 42",
        access_token=TOKEN,
        refresh_token="refresh-" + TOKEN,
    )
    access, refresh = raw_columns(workspace.pk)
    assert TOKEN not in access
    assert TOKEN not in refresh
    assert access.startswith("gAAAA")  # a Fernet token
    assert Workspace.objects.get(pk=workspace.pk).access_token == TOKEN
    assert Workspace.objects.get(pk=workspace.pk).refresh_token == "refresh-" + TOKEN


def test_each_encryption_differs(cast):
    a = Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="a",
        name="A",
        access_token=TOKEN,
    )
    b = Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="b",
        name="B",
        access_token=TOKEN,
    )
    assert raw_columns(a.pk)[0] != raw_columns(b.pk)[0]


def test_empty_secrets_stay_empty(cast):
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.HUBSPOT, external_id="e", name="E"
    )
    assert raw_columns(workspace.pk) == ("", "")


def test_rotation_reencrypts_every_secret_with_the_newest_key(cast, settings):
    suite_keys = list(settings.TOKEN_ENCRYPTION_KEYS)  # the cast's workspace uses these
    old, middle, new = (Fernet.generate_key().decode() for _ in range(3))
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    first = Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="r1",
        name="R1",
        access_token="first-token",
        refresh_token="first-refresh",
    )
    settings.TOKEN_ENCRYPTION_KEYS = [middle, old]
    second = Workspace.objects.create(
        account=cast.account,
        provider=Provider.HUBSPOT,
        external_id="r2",
        name="R2",
        access_token="second-token",
    )
    settings.TOKEN_ENCRYPTION_KEYS = [new, middle, old, *suite_keys]
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # Only the newest key is needed now.
    settings.TOKEN_ENCRYPTION_KEYS = [new]
    assert Workspace.objects.get(pk=first.pk).access_token == "first-token"
    assert Workspace.objects.get(pk=first.pk).refresh_token == "first-refresh"
    assert Workspace.objects.get(pk=second.pk).access_token == "second-token"
    assert Workspace.objects.get(pk=cast.other_workspace.pk).access_token == "globex-secret-token"
    for pk in (first.pk, second.pk, cast.other_workspace.pk):
        assert Fernet(new.encode()).decrypt(raw_columns(pk)[0].encode())


def test_a_value_no_key_can_read_is_a_clear_error(cast, settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.ImproperlyConfigured, match="cannot be decrypted"):
        Workspace.objects.get(pk=cast.other_workspace.pk)


def test_missing_or_bad_keys_are_a_clear_error(settings):
    settings.TOKEN_ENCRYPTION_KEYS = []
    with pytest.raises(crypto.ImproperlyConfigured, match="empty"):
        crypto.encrypt("x")
    settings.TOKEN_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(crypto.ImproperlyConfigured, match="Fernet keys"):
        crypto.encrypt("x")
