from django.apps import AppConfig


class InboxAppConfig(AppConfig):
    name = "inboxapp"
    verbose_name = "Inbox app"

    def ready(self):
        from relay.signals import conversation_opened

        from .receivers import assign_opened_answer

        conversation_opened.connect(assign_opened_answer, dispatch_uid="inboxapp.assign_answer")
