"""The sandbox Graph API's message templates: listed in pages as Meta lists them, and
template sends checked as Meta checks them (132001, 132000, 132012, 132015, 131008),
then shown on the customer's phone rendered. The product's own client and payload
builder are run against it, so the two are held to one shape."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.whatsapp import templates
from sandbox.meta.whatsapp_templates import catalog, status_set
from sandbox.models import Conversation, Message
from tests.sandbox.support import GRAPH, NUMBER, OTHER_NUMBER, bearer, post_json

pytestmark = pytest.mark.django_db

TOKEN = bearer(NUMBER.access_token)
LISTING = f"{GRAPH}/{NUMBER.waba_id}/message_templates"
SEND = f"{GRAPH}/{NUMBER.phone_number_id}/messages"
CUSTOMER = "15551234567"


def send(client, template: dict):
    return post_json(
        client,
        SEND,
        {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template", "template": template},
        **TOKEN,
    )


def error(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]


def meta_template(name: str) -> dict:
    return next(t for t in catalog(NUMBER.waba_id) if t["name"] == name)


def built(name: str, values: dict) -> dict:
    """The ``template`` object the product's builder makes for the sandbox's template."""
    raw = meta_template(name)
    definition = templates.TemplateDefinition(
        parameter_format=raw["parameter_format"], components=raw["components"]
    )
    return {
        "name": raw["name"],
        "language": {"code": raw["language"]},
        "components": templates.send_components(definition, values),
    }


SHIPPED = {"header.media": "https://cdn.example.com/box.jpg", "body.1": "Kerry", "body.2": "#1042"}
SALE = {"body.first_name": "Kerry", "body.discount": "15%", "button.0": "kerry-15"}


# --- the listing -----------------------------------------------------------------------


def test_it_lists_the_wabas_templates_in_pages(client):
    first = client.get(LISTING, {"limit": 3}, **TOKEN).json()
    assert [t["name"] for t in first["data"]] == ["order_shipped", "spring_sale", "winback_offer"]
    assert first["paging"]["next"].startswith("http")
    assert NUMBER.access_token not in first["paging"]["next"]
    after = first["paging"]["cursors"]["after"]
    second = client.get(LISTING, {"limit": 3, "after": after}, **TOKEN).json()
    assert [(t["name"], t["status"]) for t in second["data"]] == [
        ("miracle_cure", "REJECTED"),
        ("delivery_update", "APPROVED"),
    ]
    assert "next" not in second["paging"]


def test_its_templates_have_the_shapes_the_product_reads(client):
    data = client.get(LISTING, {"limit": 100}, **TOKEN).json()["data"]
    read = [templates.template_from_meta(t) for t in data]
    assert [(t.name, t.status, t.category, t.parameter_format) for t in read] == [
        ("order_shipped", "APPROVED", "UTILITY", "POSITIONAL"),
        ("spring_sale", "APPROVED", "MARKETING", "NAMED"),
        ("winback_offer", "PAUSED", "MARKETING", "POSITIONAL"),
        ("miracle_cure", "REJECTED", "MARKETING", "POSITIONAL"),
        ("delivery_update", "APPROVED", "UTILITY", "NAMED"),
    ]
    shipped = templates.TemplateDefinition(
        parameter_format="POSITIONAL", components=read[0].components
    )
    assert [v.key for v in templates.template_variables(shipped)] == [
        "header.media",
        "body.1",
        "body.2",
        "button.0",
    ]


def test_it_keeps_each_wabas_templates_to_its_own_token(client):
    other = client.get(LISTING, **bearer(OTHER_NUMBER.access_token))
    assert error(other)["code"] == 100


@pytest.mark.parametrize(("query", "code"), [({"limit": "x"}, 100), ({"after": "%%%"}, 100)])
def test_it_refuses_a_bad_limit_or_cursor(client, query, code):
    assert error(client.get(LISTING, query, **TOKEN))["code"] == code


# --- sends -------------------------------------------------------------------------------


def test_it_delivers_an_approved_template_rendered_to_the_phone(client):
    response = send(client, built("order_shipped", SHIPPED))
    assert response.status_code == 200, response.content
    wamid = response.json()["messages"][0]["id"]
    message = Message.objects.get(provider_message_id=wamid)
    assert message.content_type == "template"
    assert message.text == "Hi Kerry, your order #1042 is on its way.\nAcme Support\n[Where is it?]"
    rendered = message.detail["rendered"]
    assert (rendered["header_format"], rendered["header_link"]) == (
        "IMAGE",
        "https://cdn.example.com/box.jpg",
    )
    page = client.get(f"/sandbox/phone/{message.conversation.pk}/").content.decode()
    assert "Hi Kerry, your order #1042 is on its way." in page
    assert "https://cdn.example.com/box.jpg" in page and "Where is it?" in page


def test_it_fills_named_parameters_and_the_url_suffix(client):
    response = send(client, built("spring_sale", SALE))
    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert message.detail["rendered"]["body"] == (
        "Hello Kerry, take 15% off everything until Sunday."
    )
    assert message.detail["rendered"]["header_text"] == "Spring sale"
    assert message.detail["rendered"]["buttons"] == [
        {"type": "URL", "text": "Shop now", "url": "https://shop.example.com/sale/kerry-15"}
    ]


def test_a_template_goes_out_after_the_window_closed(client):
    Conversation.objects.create(
        kind="whatsapp",
        endpoint=NUMBER.phone_number_id,
        customer_id=CUSTOMER,
        last_customer_message_at=timezone.now() - timedelta(hours=25),
    )
    assert send(client, built("spring_sale", SALE)).status_code == 200


@pytest.mark.parametrize(
    ("template", "code"),
    [
        ({"name": "no_such", "language": {"code": "en_US"}}, 132001),
        ({"name": "order_shipped", "language": {"code": "pt_BR"}}, 132001),
        ({"name": "miracle_cure", "language": {"code": "en_US"}}, 132001),
        (
            {
                "name": "winback_offer",
                "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "K"}]}],
            },
            132015,
        ),
        ({"name": "order_shipped"}, 131008),
    ],
)
def test_it_refuses_templates_as_meta_does(client, template, code):
    refused = error(send(client, template))
    assert refused["code"] == code
    assert refused["error_data"]["details"]
    assert not Message.objects.exists()


def test_a_wrong_parameter_count_is_132000(client):
    template = built("order_shipped", SHIPPED)
    template["components"][1]["parameters"].pop()
    refused = error(send(client, template))
    assert refused["code"] == 132000
    assert (
        "(1) does not match the expected number of params (2)" in (refused["error_data"]["details"])
    )


def test_a_missing_url_suffix_is_132000(client):
    template = built("spring_sale", SALE)
    template["components"] = template["components"][:1]
    assert error(send(client, template))["code"] == 132000


def test_positional_values_for_a_named_template_are_132012(client):
    template = built("spring_sale", SALE)
    for parameter in template["components"][0]["parameters"]:
        del parameter["parameter_name"]
    assert error(send(client, template))["code"] == 132012


def test_a_text_where_the_header_wants_an_image_is_132012(client):
    template = built("order_shipped", SHIPPED)
    template["components"][0]["parameters"] = [{"type": "text", "text": "x"}]
    assert error(send(client, template))["code"] == 132012


def test_an_empty_value_is_131008(client):
    template = built("order_shipped", SHIPPED)
    template["components"][1]["parameters"][0]["text"] = " "
    assert error(send(client, template))["code"] == 131008


# --- a person changes a status at "Meta" -------------------------------------------------


@pytest.fixture
def restored():
    yield
    for name in ("order_shipped", "winback_offer"):
        status_set(NUMBER.waba_id, name, None)


def test_a_template_paused_on_the_index_page_is_listed_paused_and_refused(client, restored):
    page = client.get("/sandbox/").content.decode()
    assert "Pause order_shipped of" in page

    response = client.post(
        f"/sandbox/whatsapp/templates/{NUMBER.waba_id}/status",
        {"name": "order_shipped", "status": "PAUSED"},
    )

    assert response.status_code == 302
    assert meta_template("order_shipped")["status"] == "PAUSED"
    assert meta_template("order_shipped") in client.get(LISTING, **TOKEN).json()["data"]
    assert error(send(client, built("order_shipped", SHIPPED)))["code"] == 132015
    # Only that WABA's template: the other number's stays approved.
    other = next(t for t in catalog(OTHER_NUMBER.waba_id) if t["name"] == "order_shipped")
    assert other["status"] == "APPROVED"


def test_a_paused_template_can_be_approved_again(client, restored):
    client.post(
        f"/sandbox/whatsapp/templates/{NUMBER.waba_id}/status",
        {"name": "winback_offer", "status": "APPROVED"},
    )
    assert meta_template("winback_offer")["status"] == "APPROVED"


@pytest.mark.parametrize(
    ("waba_id", "name", "status"),
    [("999", "order_shipped", "PAUSED"), (None, "no_such", "PAUSED"), (None, "order_shipped", "X")],
)
def test_an_unknown_template_or_status_changes_nothing(client, restored, waba_id, name, status):
    client.post(
        f"/sandbox/whatsapp/templates/{waba_id or NUMBER.waba_id}/status",
        {"name": name, "status": status},
    )
    assert meta_template("order_shipped")["status"] == "APPROVED"
