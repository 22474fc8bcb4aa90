"""Tools that exercise Octopods from outside, as its operators, users and attackers
would: the fault harness (``scripts/faults``), the bad-input command
(``scripts/hostile``) and the servers of their own that they and the reliability tests
run (``services.py``)."""
