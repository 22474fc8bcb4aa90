from django.apps import AppConfig


class InboxAppConfig(AppConfig):
    name = "inboxapp"
    verbose_name = "Inbox app"
