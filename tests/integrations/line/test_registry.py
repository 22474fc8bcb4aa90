"""LINE in the registry: its two API hosts each have a setting, a sandbox default and the
metrics' provider name."""

from integrations.registry import CHANNELS, channel_adapter, channel_apis
from octopods.metrics import provider_endpoint
from octopods.settings.base import sandbox_provider_settings


def test_both_of_lines_hosts_are_channel_apis_with_settings(settings):
    apis = {api.setting: api for api in channel_apis()}
    assert apis["LINE_API_URL"].default == "https://api.line.me"
    assert apis["LINE_DATA_API_URL"].default == "https://api-data.line.me"
    assert {apis["LINE_API_URL"].provider, apis["LINE_DATA_API_URL"].provider} == {"line"}
    # Meta's Graph API, shared by two kinds, is still listed once.
    assert len(channel_apis()) == len({api.setting for api in channel_apis()})
    sandbox = sandbox_provider_settings("http://127.0.0.1:8000")
    assert sandbox["LINE_API_URL"] == "http://127.0.0.1:8000/sandbox/line"
    assert sandbox["LINE_DATA_API_URL"] == "http://127.0.0.1:8000/sandbox/line/data"
    assert settings.LINE_DATA_API_URL.endswith("/sandbox/line/data")


def test_the_adapter_is_registered_without_a_window_or_phone_numbers():
    assert "line" in CHANNELS
    adapter = channel_adapter("line")
    assert adapter.label == "LINE"
    assert adapter.delivery_receipts is False
    assert adapter.customer_service_window is False
    assert adapter.reaches_phone_numbers is False


def test_the_metrics_count_calls_to_either_host_as_lines(settings):
    settings.LINE_API_URL = "https://api.line.me"
    settings.LINE_DATA_API_URL = "https://api-data.line.me"
    assert provider_endpoint("https://api.line.me/v2/bot/message/push") == (
        "line",
        "/v2/bot/message/push",
    )
    provider, endpoint = provider_endpoint(
        "https://api-data.line.me/v2/bot/message/444573844083572737/content"
    )
    assert (provider, endpoint) == ("line", "/v2/bot/message/:id/content")
    assert provider_endpoint("https://stickershop.line-scdn.net/x.png")[0] == "line"
