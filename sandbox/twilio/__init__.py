"""Twilio's stand-in: its REST API (api.py, urls.py), its webhooks (webhooks.py), the
fake accounts and numbers (directory.py), and an SMS chat on the customer phone
(phone.py)."""
