"""Meta's stand-in, shared by WhatsApp, Messenger and Instagram: the Graph API (graph.py,
urls.py), its webhooks (webhooks.py), the Meta app dashboard (views.py), the fake app,
numbers, Pages and Instagram accounts (directory.py), WhatsApp's templates
(whatsapp_templates.py), and each kind on the customer phone (whatsapp.py, messenger.py,
instagram.py)."""
