"""WhatsApp templates in the panel: offered (approved only, recently used first,
searched by name), configured (one input per variable, filled from the Intercom
contact), previewed exactly as the customer sees them, sent once through the relay, and
Meta's refusals shown in plain words. Intercom-shaped signed requests; Meta mocked at
the HTTP level."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from channels.models import Direction, Message, WhatsAppTemplate
from channels.template_services import whatsapp_template_definition
from inboxapp.canvas import CANVAS_MAX_BYTES
from inboxapp.models import ProactiveSend
from integrations.whatsapp.templates import render
from relay.engine import contact_relay

from .conftest import (
    GRAPH_SEND,
    WA_CREDENTIALS,
    click,
    components,
    graph_accepts,
    ids,
    initialize,
    intercom_contact,
    make_channel,
    words,
    wrote,
)

pytestmark = pytest.mark.django_db


ORDER_SHIPPED = [
    {"type": "HEADER", "format": "IMAGE"},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way."},
    {"type": "FOOTER", "text": "Acme Support"},
    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Where is it?"}]},
]
SPRING_SALE = [
    {"type": "HEADER", "format": "TEXT", "text": "Spring sale"},
    {
        "type": "BODY",
        "text": "Hello {{first_name}}, take {{discount}} off until Sunday. Code {{coupon}}.",
    },
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Shop now", "url": "https://shop.example.com/sale/{{1}}"}
        ],
    },
]


def template(channel, name, components, *, status="APPROVED", fmt="POSITIONAL", **fields):
    return WhatsAppTemplate.objects.create(
        channel=channel,
        meta_id=f"m-{name}"[:64],
        name=name,
        language="en_US",
        status=status,
        category="UTILITY",
        parameter_format=fmt,
        components=components,
        synced_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def catalog(whatsapp):
    return {
        "order_shipped": template(whatsapp, "order_shipped", ORDER_SHIPPED),
        "spring_sale": template(whatsapp, "spring_sale", SPRING_SALE, fmt="NAMED"),
        "winback_offer": template(
            whatsapp,
            "winback_offer",
            [{"type": "BODY", "text": "We miss you, {{1}}!"}],
            status="PAUSED",
        ),
        "miracle_cure": template(
            whatsapp, "miracle_cure", [{"type": "BODY", "text": "Lose 10 kg"}], status="REJECTED"
        ),
        "old_promo": template(
            whatsapp, "old_promo", [{"type": "BODY", "text": "Old"}], status="DISABLED"
        ),
    }


def to_compose(channel, **fields) -> dict:
    first = initialize(**fields)
    return click(click(first, "this_contact", **fields), f"channel-{channel.pk}", **fields)


def to_configure(channel, chosen, **fields) -> dict:
    return click(to_compose(channel, **fields), f"template-{chosen.pk}", **fields)


def offered_labels(canvas: dict) -> list[str]:
    return [c["label"] for c in components(canvas) if c.get("id", "").startswith("template-")]


def inputs(canvas: dict) -> dict[str, dict]:
    return {c["label"]: c for c in components(canvas) if c["type"] == "input"}


def fill(canvas: dict, by_label: dict[str, str]) -> dict:
    """The configure screen's inputs as the teammate leaves them."""
    values = {c["id"]: c.get("value", "") for c in inputs(canvas).values()}
    for label, value in by_label.items():
        values[inputs(canvas)[label]["id"]] = value
    return values


ORDER_VALUES = {
    "Header image (https:// link)": "https://cdn.acme.test/parcel.jpg",
    "Body {{1}}": "Jane",
    "Body {{2}}": "#1042",
}


def to_template_preview(channel, chosen) -> dict:
    configure = to_configure(channel, chosen)
    return click(configure, "template_preview", fill(configure, ORDER_VALUES))


def test_only_approved_templates_are_offered_recently_used_first(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    wrote(jane_on_whatsapp, hours_ago=1)
    WhatsAppTemplate.objects.filter(pk=catalog["spring_sale"].pk).update(
        last_used_at=timezone.now()
    )

    canvas = to_compose(whatsapp)

    offered = [i for i in ids(canvas) if i.startswith("template-")]
    assert offered == [
        f"template-{catalog['spring_sale'].pk}",
        f"template-{catalog['order_shipped'].pk}",
    ]
    assert "text" in ids(canvas)  # the window is open: free text too
    for hidden in ("winback_offer", "miracle_cure", "old_promo"):
        assert hidden not in words(canvas)


def test_after_the_window_templates_are_the_only_option(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    wrote(jane_on_whatsapp, hours_ago=25)

    canvas = to_compose(whatsapp)

    assert "text" not in ids(canvas) and "preview" not in ids(canvas)
    assert f"template-{catalog['order_shipped'].pk}" in ids(canvas)
    assert "order_shipped (en_US)" in words(canvas)


def test_another_channels_or_a_paused_template_cannot_be_configured(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    compose = to_compose(whatsapp)

    paused = click(compose, f"template-{catalog['winback_offer'].pk}")

    assert "no longer an approved template" in words(paused)
    assert "var-0" not in ids(paused)


def test_many_templates_show_the_ten_latest_and_a_search_by_name(
    workspace, whatsapp, jane_on_whatsapp
):
    now = timezone.now()
    for number in range(15):
        template(
            whatsapp,
            f"notice_{number:02}",
            [{"type": "BODY", "text": "Hi"}],
            last_used_at=now - timedelta(minutes=number),
        )
    template(whatsapp, "refund_done", [{"type": "BODY", "text": "Refunded"}])

    compose = to_compose(whatsapp)
    assert offered_labels(compose) == [f"notice_{n:02} (en_US)" for n in range(10)]
    assert "10 of 16 shown" in words(compose)
    assert "template_query" in ids(compose)

    found = click(compose, "template_search", {"template_query": "REFUND"})
    assert offered_labels(found) == ["refund_done (en_US)"]

    nothing = click(compose, "template_search", {"template_query": "zzz"})
    assert "No approved template has that in its name." in words(nothing)


def test_configure_fills_named_variables_from_the_intercom_contact(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    contact = intercom_contact(custom_attributes={"coupon": "JANE-10", "discount": 15})

    canvas = to_configure(whatsapp, catalog["spring_sale"], contact=contact)

    fields = inputs(canvas)
    assert fields["Body {{first_name}}"]["value"] == "Jane"
    assert fields["Body {{discount}}"]["value"] == "15"
    assert fields["Body {{coupon}}"]["value"] == "JANE-10"
    assert fields["Link ending of button “Shop now”"]["value"] == ""
    assert "Footer: Reply STOP to opt out" in words(canvas)
    assert "Button: Shop now → https://shop.example.com/sale/{{1}}" in words(canvas)


def test_positional_variables_and_the_header_image_get_no_guess(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    canvas = to_configure(whatsapp, catalog["order_shipped"])

    assert [(label, c["value"]) for label, c in inputs(canvas).items()] == [
        ("Header image (https:// link)", ""),
        ("Body {{1}}", ""),
        ("Body {{2}}", ""),
        ("Payload of button “Where is it?” (optional)", ""),
    ]


def test_a_missing_value_is_refused_with_the_reason_and_nothing_is_sent(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    configure = to_configure(whatsapp, catalog["order_shipped"])

    again = click(
        configure,
        "template_preview",
        fill(configure, {**ORDER_VALUES, "Body {{2}}": "", "Header image (https:// link)": "x"}),
    )

    assert "The header image must be a link starting with https://" in words(again)
    assert "The body variable {{2}} needs a value" in words(again)
    assert inputs(again)["Body {{1}}"]["value"] == "Jane"  # what was typed stays
    assert "template_send" not in ids(again)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_the_preview_is_exactly_what_render_gives(workspace, whatsapp, jane_on_whatsapp, catalog):
    preview = to_template_preview(whatsapp, catalog["order_shipped"])

    expected = render(
        whatsapp_template_definition(catalog["order_shipped"]),
        {
            "header.media": "https://cdn.acme.test/parcel.jpg",
            "body.1": "Jane",
            "body.2": "#1042",
            "button.0": "",
        },
    ).as_text()
    shown = components(preview)[2]["text"]
    assert shown.replace("\\", "") == expected
    assert expected == (
        "[image: https://cdn.acme.test/parcel.jpg]\nHi Jane, your order #1042 is on its way."
        "\nAcme Support\n[Where is it?]"
    )
    assert {"template_send", "template_send_open", "template_edit"} <= set(ids(preview))


def test_edit_returns_to_the_values_as_given(workspace, whatsapp, jane_on_whatsapp, catalog):
    preview = to_template_preview(whatsapp, catalog["order_shipped"])

    edit = click(preview, "template_edit")

    assert inputs(edit)["Body {{2}}"]["value"] == "#1042"


def test_send_queues_the_template_and_the_relay_sends_it_once(
    mocked, workspace, whatsapp, jane_on_whatsapp, catalog
):
    wrote(jane_on_whatsapp, hours_ago=25)
    graph_accepts(mocked)
    preview = to_template_preview(whatsapp, catalog["order_shipped"])

    first = click(preview, "template_send")
    second = click(preview, "template_send")  # a double click
    contact_relay(contact_id=jane_on_whatsapp.pk)

    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert ProactiveSend.objects.count() == 1
    assert first["canvas"]["stored_data"]["send"] == second["canvas"]["stored_data"]["send"]
    assert message.type == "template"
    assert message.text.startswith("[image: https://cdn.acme.test/parcel.jpg]\nHi Jane")
    assert message.data["template"]["name"] == "order_shipped"
    assert message.data["admin_id"] == "991"
    assert len(mocked.calls) == 1
    sent = json.loads(mocked.calls[0].request.body)
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "order_shipped",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "header",
                "parameters": [
                    {"type": "image", "image": {"link": "https://cdn.acme.test/parcel.jpg"}}
                ],
            },
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Jane"}, {"type": "text", "text": "#1042"}],
            },
        ],
    }
    catalog["order_shipped"].refresh_from_db()
    assert catalog["order_shipped"].last_used_at is not None
    status = click(first, "refresh")
    assert "Status: **Sent**" in words(status)


def test_a_template_paused_at_meta_after_it_was_offered_fails_with_its_reason(
    mocked, workspace, whatsapp, jane_on_whatsapp, catalog
):
    mocked.post(
        GRAPH_SEND,
        status=400,
        json={
            "error": {
                "message": "(#132015) Template is Paused",
                "type": "OAuthException",
                "code": 132015,
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": "Template order_shipped is paused due to low quality",
                },
                "fbtrace_id": "A4O5",
            }
        },
    )
    status = click(to_template_preview(whatsapp, catalog["order_shipped"]), "template_send")

    contact_relay(contact_id=jane_on_whatsapp.pk)
    refreshed = click(status, "refresh")

    assert components(refreshed)[0]["text"] == "Message not delivered"
    assert "WhatsApp has paused this template" in words(refreshed)
    assert Message.objects.get(direction=Direction.OUTBOUND).status == "failed"


def test_a_template_paused_between_preview_and_send_is_not_sent(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    preview = to_template_preview(whatsapp, catalog["order_shipped"])
    WhatsAppTemplate.objects.filter(pk=catalog["order_shipped"].pk).update(status="PAUSED")

    refused = click(preview, "template_send")

    assert "no longer an approved template" in words(refused)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_values_forged_into_the_preview_are_checked_again_on_send(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    preview = to_template_preview(whatsapp, catalog["order_shipped"])
    preview["canvas"]["stored_data"]["values"]["body.2"] = ""

    again = click(preview, "template_send")

    assert "The body variable {{2}} needs a value" in words(again)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_another_workspaces_template_is_out_of_reach(
    workspace, whatsapp, jane_on_whatsapp, catalog, cast
):
    theirs = template(
        make_channel(cast.other_workspace, "whatsapp", "Theirs", "100000000000009", WA_CREDENTIALS),
        "their_secret",
        [{"type": "BODY", "text": "Secret"}],
    )

    canvas = click(to_compose(whatsapp), f"template-{theirs.pk}")

    assert "no longer an approved template" in words(canvas)
    assert "Secret" not in json.dumps(canvas)


def test_a_hundred_templates_with_long_names_stay_within_the_canvas_limit(
    workspace, whatsapp, jane_on_whatsapp
):
    for number in range(100):
        template(
            whatsapp,
            f"{number:03}_" + "x" * 508,
            [{"type": "BODY", "text": "B" * 1024}],
        )

    canvas = to_compose(whatsapp)

    assert len(json.dumps(canvas["canvas"]["content"]).encode()) < CANVAS_MAX_BYTES
    assert len([i for i in ids(canvas) if i.startswith("template-")]) == 10
    assert "10 of 100 shown" in words(canvas)


def test_only_the_templates_own_variables_are_kept_with_the_message(
    workspace, whatsapp, jane_on_whatsapp, catalog
):
    preview = to_template_preview(whatsapp, catalog["order_shipped"])
    preview["canvas"]["stored_data"]["values"]["body.99"] = "smuggled"

    click(preview, "template_send")

    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert set(message.data["template"]["values"]) == {
        "header.media",
        "body.1",
        "body.2",
        "button.0",
    }
    assert "smuggled" not in message.text


def test_send_and_open_conversation_opens_it_with_the_template_as_the_customer_sees_it(
    mocked, workspace, whatsapp, jane_on_whatsapp, catalog
):
    wrote(jane_on_whatsapp, hours_ago=25)
    mocked.post(
        f"{settings.INTERCOM_API_URL}/messages",
        json={
            "type": "admin_message",
            "id": "2001",
            "message_type": "inapp",
            "conversation_id": "8001",
        },
    )
    mocked.post(f"{settings.INTERCOM_API_URL}/tags", json={"type": "tag", "id": "17"})
    mocked.post(
        f"{settings.INTERCOM_API_URL}/conversations/8001/tags", json={"type": "tag", "id": "17"}
    )

    status = click(to_template_preview(whatsapp, catalog["order_shipped"]), "template_send_open")

    opened = json.loads(mocked.calls[0].request.body)
    assert opened["body"] == (
        "<p>[image: https://cdn.acme.test/parcel.jpg]<br>"
        "Hi Jane, your order #1042 is on its way.<br>Acme Support<br>[Where is it?]</p>"
    )
    assert "An Intercom conversation was opened" in words(status)
    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert message.conversation.inbox_conversation_id == "8001"
