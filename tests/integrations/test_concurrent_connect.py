import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Account, Membership, Role
from tests.conftest import make_user
from workspaces.models import Provider, Workspace

from .conftest import mock_intercom, start


@pytest.mark.django_db(transaction=True)
def test_two_accounts_racing_for_one_new_workspace_one_wins(mocked):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's unique index waits (CI always runs on it)")
    clients = []
    for name in ("Alpha", "Beta"):
        account = Account.objects.create(name=name)
        user = make_user(f"admin@{name.lower()}.test")
        Membership.objects.create(user=user, account=account, role=Role.ADMIN)
        client = Client()
        client.force_login(user)
        clients.append((account, client, start(client, "intercom")["state"]))
    mock_intercom(mocked, id_code="contested-app", name="Contested")

    barrier = threading.Barrier(2)
    outcomes = {}

    def finish(account, client, state):
        try:
            barrier.wait(timeout=30)
            client.get("/oauth/intercom/callback/", {"code": "c", "state": state})
            outcomes[account.name] = client.get("/").content.decode()
        finally:
            connection.close()

    threads = [threading.Thread(target=finish, args=entry) for entry in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    winner = Workspace.objects.get(provider=Provider.INTERCOM, external_id="contested-app")
    loser = next(name for name in outcomes if name != winner.account.name)
    assert "Contested is connected." in outcomes[winner.account.name]
    assert (
        "This Intercom Workspace has been activated under a different account." in outcomes[loser]
    )
    assert Workspace.objects.filter(external_id="contested-app").count() == 1
