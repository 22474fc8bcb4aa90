"""WhatsApp templates from Meta: the listing (client), reading a template, its
variables, the preview and the send's components, and Meta's template errors.

Shapes checked against Meta's Graph reference "WhatsApp Business Account Message
Templates" (``GET /<WHATSAPP_BUSINESS_ACCOUNT_ID>/message_templates``: ``data`` of
templates with ``name``, ``components`` (HEADER/BODY/FOOTER/BUTTONS), ``language``,
``status``, ``category``, ``id``; paged by ``paging.cursors.after`` with ``paging.next``
while more follow), Meta's "Send message templates" (``components`` of ``header``,
``body``, ``button`` with ``sub_type`` and ``index``; ``parameter_name`` for NAMED
templates), its "WhatsApp error codes" page, and pywa ``pywa/errors.py`` (131008
MissingRequiredParameter, 131009 InvalidParameter, 132000 TemplateParamCountMismatch,
132001 TemplateNotExists, 132005 TemplateTextTooLong, 132007
TemplateContentPolicyViolation, 132012 TemplateParamFormatMismatch, 132015
TemplatePaused, 132016 TemplateDisabled, 131047 ReEngagementMessage).
"""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import OutboundMessage, TemplateMessage
from integrations.registry import channel_adapter
from integrations.whatsapp import templates
from integrations.whatsapp.client import TEMPLATES_MAX_PAGES, WhatsAppClient
from integrations.whatsapp.credentials import Credentials

FIXTURES = Path(__file__).parent / "fixtures" / "templates"
WABA = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
TOKEN = "EAAGtemplatesaccesstoken0001"
CREDENTIALS = Credentials(
    phone_number_id=PHONE_NUMBER_ID,
    waba_id=WABA,
    access_token=TOKEN,
    app_secret="0f4c2b7e9a1d3c5e7f9a0b2c4d6e8f1a",
    verify_token="vt",
)
LISTING = f"{settings.META_GRAPH_API_URL}/{WABA}/message_templates"
SEND = f"{settings.META_GRAPH_API_URL}/{PHONE_NUMBER_ID}/messages"

adapter = channel_adapter("whatsapp")


def page(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def listed(name: str) -> dict:
    """One template of the fixtures, by name."""
    for file in ("page1.json", "page2.json"):
        for template in page(file)["data"]:
            if template["name"] == name:
                return template
    raise KeyError(name)


def definition(name: str) -> templates.TemplateDefinition:
    template = templates.template_from_meta(listed(name))
    return templates.TemplateDefinition(
        parameter_format=template.parameter_format, components=template.components
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def query(call) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


# --- the listing -----------------------------------------------------------------------


def test_it_lists_every_page_following_the_after_cursor(mocked):
    mocked.get(LISTING, json=page("page1.json"))
    mocked.get(LISTING, json=page("page2.json"))

    listing = adapter.fetch_templates(credentials=CREDENTIALS)

    assert listing.complete
    assert [(t.name, t.language, t.status, t.category) for t in listing.templates] == [
        ("order_shipped", "en_US", "APPROVED", "UTILITY"),
        ("spring_sale", "en", "APPROVED", "MARKETING"),
        ("winback_offer", "pt_BR", "PAUSED", "MARKETING"),
        ("account_alert", "en_US", "REJECTED", "UTILITY"),
    ]
    first, second = mocked.calls
    assert "after" not in query(first)
    assert query(second)["after"] == "MjQZD"
    assert query(first)["limit"] == "100"
    assert "parameter_format" in query(first)["fields"]
    assert first.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in first.request.url
    rejected = listing.templates[3]
    assert rejected.rejected_reason == "INVALID_FORMAT"
    assert listing.templates[1].parameter_format == "NAMED"


def test_a_listing_that_never_ends_stops_and_says_it_is_incomplete(mocked):
    endless = {**page("page2.json"), "paging": page("page1.json")["paging"]}
    mocked.get(LISTING, json=endless)

    found, complete = WhatsAppClient(TOKEN).message_templates(WABA)

    assert complete is False
    assert len(mocked.calls) == TEMPLATES_MAX_PAGES
    # The same templates again and again are kept once each.
    mocked.get(LISTING, json=endless)
    listing = adapter.fetch_templates(credentials=CREDENTIALS)
    assert len(listing.templates) == 2 and listing.complete is False
    assert len(found) == 2 * TEMPLATES_MAX_PAGES


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, 190, "access token"),
        (400, 100, "WhatsApp Business Account"),
        (500, 1, "could not be reached"),
        (429, 80008, "slow down"),
    ],
)
def test_meta_refusing_the_listing_is_a_provider_error(mocked, status, code, words):
    message = "(#100) Unsupported get request. Object with ID '1' does not exist"
    mocked.get(
        LISTING, status=status, json={"error": {"message": message, "code": code, "type": "x"}}
    )
    with pytest.raises(ProviderError) as caught:
        adapter.fetch_templates(credentials=CREDENTIALS)
    assert words in caught.value.message
    assert TOKEN not in caught.value.message


def test_a_listing_that_times_out_is_a_transient_provider_error(mocked):
    mocked.get(LISTING, body=requests.Timeout())
    with pytest.raises(ProviderError) as caught:
        adapter.fetch_templates(credentials=CREDENTIALS)
    assert caught.value.permanent is False


def test_an_answer_too_large_is_refused_unread(mocked):
    # A 10 MB name: the page is refused before it is parsed.
    huge = {"data": [{**listed("order_shipped"), "name": "n" * (10 * 1024 * 1024)}]}
    mocked.get(LISTING, json=huge)
    with pytest.raises(ProviderError) as caught:
        adapter.fetch_templates(credentials=CREDENTIALS)
    assert "longer than" in caught.value.message
    assert caught.value.permanent is False


def test_a_listing_that_is_not_a_list_is_a_provider_error(mocked):
    mocked.get(LISTING, json={"data": {"name": "x"}})
    with pytest.raises(ProviderError):
        adapter.fetch_templates(credentials=CREDENTIALS)


def test_unreadable_templates_are_left_out_and_named(mocked):
    too_many = {
        **listed("order_shipped"),
        "name": "too_many",
        "components": [{"type": "BODY"}] * 1000,
    }
    long_name = {**listed("order_shipped"), "name": "x" * 513}
    no_language = {**listed("order_shipped"), "name": "no_language", "language": ""}
    bad_format = {**listed("order_shipped"), "name": "bad_format", "parameter_format": "WEIRD"}
    mocked.get(
        LISTING,
        json={"data": [too_many, long_name, no_language, bad_format, listed("spring_sale"), 7]},
    )

    listing = adapter.fetch_templates(credentials=CREDENTIALS)

    assert [t.name for t in listing.templates] == ["spring_sale"]
    assert len(listing.skipped) == 5
    assert listing.skipped[0] == "too_many: more than 10 components"
    assert "name longer than 512" in listing.skipped[1]


@pytest.mark.parametrize(
    "components",
    [
        [{"type": "BUTTONS", "buttons": 7}],
        [{"type": "BUTTONS", "buttons": ["not an object"]}],
        [{"type": 7, "text": {"x": 1}}],
        [{"type": "HEADER", "format": ["IMAGE"]}],
    ],
)
def test_odd_component_shapes_are_read_without_failing(components):
    raw = {**listed("spring_sale"), "components": components}
    template = templates.template_from_meta(raw)
    definition = templates.TemplateDefinition(
        parameter_format=template.parameter_format, components=template.components
    )
    assert templates.render(definition, {}).body == ""


def test_a_template_id_that_is_not_a_string_or_number_is_unreadable():
    with pytest.raises(templates.TemplateUnreadable, match="no usable id"):
        templates.template_from_meta({**listed("spring_sale"), "id": {"x": 1}})


def test_a_nul_byte_in_a_template_is_made_storable():
    raw = {**listed("spring_sale")}
    raw["components"] = [{"type": "BODY", "text": "Hi\x00 {{first_name}}"}]
    template = templates.template_from_meta(raw)
    assert template.components[0]["text"] == "Hi\ufffd {{first_name}}"


# --- variables, preview, send components ---------------------------------------------


def test_it_lists_the_variables_of_an_image_template_with_positional_body():
    variables = templates.template_variables(definition("order_shipped"))
    assert [(v.key, v.component, v.kind, v.required) for v in variables] == [
        ("header.media", "header", "image", True),
        ("body.1", "body", "text", True),
        ("body.2", "body", "text", True),
        ("button.0", "button", "payload", False),
    ]


def test_it_lists_the_variables_of_a_named_template_with_a_url_button():
    variables = templates.template_variables(definition("spring_sale"))
    assert [(v.key, v.kind) for v in variables] == [
        ("header.first_name", "text"),
        ("body.first_name", "text"),
        ("body.discount", "text"),
        ("button.0", "url_suffix"),
        ("button.1", "coupon_code"),
    ]


def test_it_renders_what_the_customer_sees():
    rendered = templates.render(
        definition("order_shipped"),
        {"header.media": "https://cdn.example.com/box.jpg", "body.1": "Jane", "body.2": "#123"},
    )
    assert rendered.header_media == "IMAGE"
    assert rendered.header_link == "https://cdn.example.com/box.jpg"
    assert rendered.body == "Hi Jane, your order #123 is on its way."
    assert rendered.footer == "Reply STOP to opt out"
    assert [(b.type, b.text, b.phone_number) for b in rendered.buttons] == [
        ("QUICK_REPLY", "Track it", ""),
        ("PHONE_NUMBER", "Call us", "+15550783881"),
    ]


def test_a_preview_leaves_a_missing_value_visible_and_fills_the_url_suffix():
    rendered = templates.render(
        definition("spring_sale"), {"header.first_name": "Jane", "button.0": "jane-20"}
    )
    assert rendered.header_text == "Spring sale for Jane"
    assert rendered.body == "Hello {{first_name}}, take {{discount}} off everything until Sunday."
    assert rendered.buttons[0].url == "https://shop.example.com/sale/jane-20"
    assert "Spring sale for Jane" in rendered.as_text()


def test_it_builds_positional_components_with_an_image_header_and_a_payload():
    components = templates.send_components(
        definition("order_shipped"),
        {
            "header.media": "https://cdn.example.com/box.jpg",
            "body.2": "#123",
            "body.1": "Jane",
            "button.0": "TRACK-123",
        },
    )
    assert components == [
        {
            "type": "header",
            "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/box.jpg"}}],
        },
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Jane"}, {"type": "text", "text": "#123"}],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "0",
            "parameters": [{"type": "payload", "payload": "TRACK-123"}],
        },
    ]


def test_positional_parameters_go_in_the_order_of_their_numbers():
    body = templates.TemplateDefinition(
        parameter_format="POSITIONAL",
        components=[{"type": "BODY", "text": "{{2}} then {{1}}, and {{10}}"}],
    )
    [component] = templates.send_components(body, {"body.1": "a", "body.2": "b", "body.10": "c"})
    assert [p["text"] for p in component["parameters"]] == ["a", "b", "c"]


def test_it_builds_named_components_with_a_url_suffix_and_a_code():
    components = templates.send_components(
        definition("spring_sale"),
        {
            "header.first_name": "Jane",
            "body.first_name": "Jane",
            "body.discount": "20%",
            "button.0": "jane-20",
            "button.1": "SPRING20",
        },
    )
    assert components == [
        {
            "type": "header",
            "parameters": [{"type": "text", "text": "Jane", "parameter_name": "first_name"}],
        },
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Jane", "parameter_name": "first_name"},
                {"type": "text", "text": "20%", "parameter_name": "discount"},
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "jane-20"}],
        },
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "1",
            "parameters": [{"type": "coupon_code", "coupon_code": "SPRING20"}],
        },
    ]


def test_a_location_header_takes_its_coordinates():
    location = templates.TemplateDefinition(
        parameter_format="POSITIONAL",
        components=[{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY", "text": "Here"}],
    )
    [header] = templates.send_components(
        location, {"header.latitude": "37.48", "header.longitude": "-122.14", "header.name": "Hub"}
    )
    assert header["parameters"] == [
        {
            "type": "location",
            "location": {"latitude": "37.48", "longitude": "-122.14", "name": "Hub"},
        }
    ]
    assert templates.values_problems(location, {"header.latitude": "north"}) == [
        "The header variable {{latitude}} must be a number of degrees",
        "The header variable {{longitude}} needs a value",
    ]


def test_values_meta_would_refuse_are_caught_in_plain_words():
    problems = templates.values_problems(
        definition("order_shipped"),
        {"header.media": "http://insecure.example/x.jpg", "body.1": "two\nlines", "body.2": ""},
    )
    assert problems == [
        "The header image must be a link starting with https://",
        "The body variable {{1}} cannot hold a new line, a tab or more than 4 spaces in a row",
        "The body variable {{2}} needs a value",
    ]


def test_a_template_with_nothing_to_fill_has_no_components():
    assert templates.send_components(
        definition("account_alert"), {"header.latitude": "1", "header.longitude": "2"}
    )
    plain = templates.TemplateDefinition(
        parameter_format="POSITIONAL", components=[{"type": "BODY", "text": "Hello"}]
    )
    assert templates.send_components(plain, {}) == []


# --- the adapter's send -----------------------------------------------------------------


def message(name: str, values: dict) -> OutboundMessage:
    template = templates.template_from_meta(listed(name))
    return OutboundMessage(
        to="15551234567",
        template=TemplateMessage(
            name=template.name,
            language=template.language,
            parameter_format=template.parameter_format,
            components=tuple(template.components),
            values=tuple(values.items()),
        ),
    )


def test_the_adapter_sends_a_template_with_its_components(mocked):
    mocked.post(SEND, json={"messages": [{"id": "wamid.T1", "message_status": "accepted"}]})
    values = {"header.media": "https://cdn.example.com/box.jpg", "body.1": "Jane", "body.2": "#1"}

    wamid = adapter.send(credentials=CREDENTIALS, message=message("order_shipped", values))

    assert wamid == "wamid.T1"
    sent = json.loads(mocked.calls[0].request.body)
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "order_shipped"
    assert sent["template"]["language"] == {"code": "en_US"}
    assert sent["template"]["components"][1]["parameters"][0] == {"type": "text", "text": "Jane"}


def test_a_refused_value_on_a_text_message_is_not_blamed_on_a_template(mocked):
    mocked.post(
        SEND,
        status=400,
        json={"error": {"message": "(#131009) Parameter value is not valid", "code": 131009}},
    )
    with pytest.raises(ProviderError) as caught:
        adapter.send(credentials=CREDENTIALS, message=OutboundMessage(to="1555", text="hi"))
    assert "template" not in caught.value.message


def test_the_adapter_refuses_missing_values_without_calling_meta(mocked):
    with pytest.raises(ProviderError) as caught:
        adapter.send(credentials=CREDENTIALS, message=message("order_shipped", {"body.1": "J"}))
    assert caught.value.permanent
    assert "The header image needs a value" in caught.value.message
    assert not mocked.calls


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (131008, "needs a value for every variable"),
        (131009, "did not accept one of the values"),
        (132000, "different number of variables"),
        (132001, "no approved template of this name in this language"),
        (132005, "longer than WhatsApp allows"),
        (132007, "under its policies"),
        (132012, "not in the form this template expects"),
        (132015, "paused this template"),
        (132016, "disabled this template for good"),
        (131047, "within 24 hours"),
    ],
)
def test_meta_template_errors_are_worded_for_the_agent(mocked, code, words):
    mocked.post(
        SEND,
        status=400,
        json={
            "error": {
                "message": f"(#{code}) Template error",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": "as Meta says"},
                "fbtrace_id": "A1",
            }
        },
    )
    values = {"header.media": "https://cdn.example.com/box.jpg", "body.1": "J", "body.2": "#1"}
    with pytest.raises(ProviderError) as caught:
        adapter.send(credentials=CREDENTIALS, message=message("order_shipped", values))
    assert words in caught.value.message
    if code != 131047:
        assert "(as Meta says)" in caught.value.message
    assert caught.value.permanent
    assert caught.value.code == str(code)
