from django.conf import settings

from ..base import Identity, InboxAdapter, TokenSet
from ..errors import provider_call
from . import client


class HubSpotAdapter(InboxAdapter):
    provider = "hubspot"
    label = "HubSpot"
    conflict_message = "This HubSpot Portal has been activated under a different account."
    uses_pkce = True

    def is_configured(self) -> bool:
        return bool(settings.HUBSPOT_CLIENT_ID and settings.HUBSPOT_CLIENT_SECRET)

    def authorization_url(self, *, state, redirect_uri, code_challenge):
        return client.authorization_url(
            state=state, redirect_uri=redirect_uri, code_challenge=code_challenge
        )

    def exchange_code(self, *, code, redirect_uri, code_verifier):
        return client.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )

    def identify(self, *, tokens: TokenSet) -> Identity:
        info = client.token_info(access_token=tokens.access_token)
        with provider_call(client.LABEL, client.describe_error):
            hub_id = str(int(info["hub_id"]))
            name = info.get("hub_domain") or f"HubSpot portal {hub_id}"
        return Identity(external_id=hub_id, name=name)

    def refresh(self, *, refresh_token: str) -> TokenSet:
        return client.refresh(refresh_token=refresh_token)

    def check(self, *, tokens: TokenSet) -> None:
        client.token_info(access_token=tokens.access_token)

    def revoke(self, *, tokens: TokenSet) -> None:
        # Deleting the refresh token stops any new access token; the current one
        # lapses within its 30 minutes.
        if tokens.refresh_token:
            client.delete_refresh_token(refresh_token=tokens.refresh_token)
