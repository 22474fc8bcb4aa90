from django.conf import settings

from ..base import Identity, InboxAdapter, InboxAdminInfo, TokenSet
from ..errors import provider_call
from . import client
from .client import IntercomClient


class IntercomAdapter(InboxAdapter):
    provider = "intercom"
    label = "Intercom"
    conflict_message = "This Intercom Workspace has been activated under a different account."
    uses_pkce = False

    def is_configured(self) -> bool:
        return bool(settings.INTERCOM_CLIENT_ID and settings.INTERCOM_CLIENT_SECRET)

    def authorization_url(self, *, state, redirect_uri, code_challenge=""):
        return client.authorization_url(state=state, redirect_uri=redirect_uri)

    def exchange_code(self, *, code, redirect_uri, code_verifier=""):
        return client.exchange_code(code=code, redirect_uri=redirect_uri)

    def identify(self, *, tokens: TokenSet) -> Identity:
        api = IntercomClient(tokens.access_token)
        me = api.me()
        with provider_call(client.LABEL, client.describe_error):
            # The workspace is the app the token was granted for: its id_code is the
            # app_id every webhook and uninstall notice names.
            app = me["app"]
            external_id, name = str(app["id_code"]), str(app.get("name") or app["id_code"])
            admins = tuple(
                InboxAdminInfo(
                    external_id=str(admin["id"]),
                    name=admin.get("name") or "",
                    email=admin.get("email") or "",
                )
                for admin in api.admins()
            )
        return Identity(external_id=external_id, name=name, admins=admins)

    def check(self, *, tokens: TokenSet) -> None:
        IntercomClient(tokens.access_token).me()

    def revoke(self, *, tokens: TokenSet) -> None:
        # Intercom has no API to give up a token: it is revoked when the workspace's
        # admins uninstall the app in Intercom. We forget it on our side.
        return None
