"""A small pass of the hostile-input run (manage.py hostile_inputs does thousands)."""

import pytest

from harness import hostile
from integrations.registry import CHANNELS


def test_every_registered_channel_kind_is_in_the_run():
    # A kind registered without an entry would go unhit: the run refuses to start.
    assert set(hostile.HOSTILE_KINDS) == set(CHANNELS)
    assert list(hostile.hostile_kinds()) == list(CHANNELS)
    assert set(CHANNELS) <= set(hostile.WEBHOOK_TARGETS)
    for kind, entry in hostile.HOSTILE_KINDS.items():
        assert entry.payloads(), kind
        assert entry.form or entry.header, kind


def test_a_kind_without_an_entry_stops_the_run(monkeypatch):
    monkeypatch.delitem(hostile.HOSTILE_KINDS, "line")
    with pytest.raises(LookupError, match="line"):
        hostile.hostile_kinds()


@pytest.mark.django_db(transaction=True)
def test_hostile_inputs_get_no_500_and_change_nothing_they_should_not():
    report = hostile.run(webhooks=350, forms=150, seed=3)
    assert report.server_errors == []
    assert report.unauthenticated_stored == []
    assert report.refused_but_written == []
    assert not any(report.invariants.values()), report.invariants
    # Every webhook, each channel kind's included, heard both kinds of stranger: signed
    # and not.
    auths = {target: set() for target in hostile.WEBHOOK_TARGETS}
    for target, auth in report.counts:
        if target in auths:
            auths[target].add(auth)
    assert all(found == {"signed", "unsigned"} for found in auths.values()), auths
    # And something was stored: signed requests do get through, to every channel kind.
    assert sum(report.counts[(target, "signed")][200] for target in auths) > 0
    stored = {kind for kind in CHANNELS if report.counts[(kind, "signed")][200]}
    assert stored == set(CHANNELS), stored
    assert report.ok
    assert "500s=0" in report.summary()
