"""Turning transport failures and OAuth errors into ProviderError, shared by providers."""

from collections.abc import Callable
from contextlib import contextmanager

import requests
from oauthlib.oauth2 import OAuth2Error

from .base import ProviderError


@contextmanager
def provider_call(label: str, describe: Callable[[requests.Response], ProviderError]):
    """Run a provider call; anything but success leaves as a ProviderError.

    ``describe`` maps an HTTP error response to the provider's own error (it lives in
    the provider's client, the one place that knows its error bodies).
    """
    try:
        yield
    except ProviderError:
        raise
    except requests.HTTPError as error:
        raise describe(error.response) from error
    except requests.Timeout as error:
        raise ProviderError(f"{label} did not answer in time", permanent=False) from error
    except requests.RequestException as error:
        raise ProviderError(f"{label} could not be reached", permanent=False) from error
    except OAuth2Error as error:
        # oauthlib read an error body from the token endpoint (invalid_grant, …).
        raise ProviderError(
            f"{label} refused the authorization: {error.error}",
            permanent=True,
            status=error.status_code,
            code=error.error or "",
        ) from error
    except (ValueError, KeyError, TypeError) as error:
        # Malformed JSON, or JSON without the fields we rely on.
        raise ProviderError(f"{label} sent an answer we could not read", permanent=False) from error
