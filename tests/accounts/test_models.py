"""The user lookup Django's auth makes on every signed-in request (accounts/models.py,
UserManager.get through a prepared query) gives what the ORM gives."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def fields(user) -> dict:
    return {f.attname: getattr(user, f.attname) for f in user._meta.concrete_fields}


def test_get_by_pk_is_the_users_row_as_the_orm_reads_it():
    User = get_user_model()
    user = User.objects.create_user(email="ana@example.test", password="pw-0123456789", name="Ana")
    User.objects.filter(pk=user.pk).update(last_login=datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    with CaptureQueriesContext(connection) as queries:
        fast = User.objects.get(pk=user.pk)
    orm = User.objects.filter(pk=user.pk).get()
    assert fields(fast) == fields(orm)
    assert fast.last_login == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert fast._state.adding is False and fast._state.db == "default"
    assert len(queries) == 1
    assert fast.check_password("pw-0123456789")


@pytest.mark.parametrize("pk", [0, -1, 2**63 - 1, 2**63, "1"])
def test_a_user_that_is_not_there_is_does_not_exist(pk):
    User = get_user_model()
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=pk)


def test_other_lookups_are_the_orms():
    User = get_user_model()
    User.objects.create_user(email="bo@example.test", password="pw-0123456789")
    assert User.objects.get(email="bo@example.test").email == "bo@example.test"
    with pytest.raises(User.MultipleObjectsReturned):
        User.objects.create_user(email="cy@example.test", password="pw-0123456789")
        User.objects.get(is_active=True)


def test_a_signed_in_page_finds_its_user(client):
    User = get_user_model()
    user = User.objects.create_user(email="di@example.test", password="pw-0123456789")
    client.force_login(user)
    response = client.get("/")
    assert response.wsgi_request.user == user
