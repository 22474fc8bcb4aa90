"""Tools that exercise Octopods from outside, as its users and attackers would."""
