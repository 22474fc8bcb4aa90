"""Viber's stand-in: the REST bot API (api.py, urls.py), its fake bots (directory.py),
and a Viber chat on the customer phone (phone.py)."""
