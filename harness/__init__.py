"""Tools that run Octopods' real processes against services of their own: the fault
harness (``scripts/faults``) and the reliability tests' service fixtures."""
