"""A small pass of the hostile-input run (manage.py hostile_inputs does thousands)."""

import pytest

from harness import hostile


@pytest.mark.django_db(transaction=True)
def test_hostile_inputs_get_no_500_and_change_nothing_they_should_not():
    report = hostile.run(webhooks=350, forms=150, seed=3)
    assert report.server_errors == []
    assert report.unauthenticated_stored == []
    assert report.refused_but_written == []
    assert not any(report.invariants.values()), report.invariants
    # Every webhook heard both kinds of stranger: signed and not.
    auths = {target: set() for target in hostile.WEBHOOK_TARGETS}
    for target, auth in report.counts:
        if target in auths:
            auths[target].add(auth)
    assert all(found == {"signed", "unsigned"} for found in auths.values()), auths
    # And something was stored: signed requests do get through.
    assert sum(report.counts[(target, "signed")][200] for target in auths) > 0
    assert report.ok
    assert "500s=0" in report.summary()
