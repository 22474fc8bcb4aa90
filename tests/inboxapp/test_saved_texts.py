"""A channel's saved texts (channels.MessageTemplate: name, language, a body with
numbered variables) in the panel: offered on the compose screen wherever free text can
be sent, filled in one input per variable, previewed exactly as the customer gets them
and sent through the free-text path. Signed Canvas Kit requests, built from the canvas
the previous answer showed."""

import json

import pytest
from django.conf import settings

from channels.models import Contact, Direction, Message, MessageTemplate
from inboxapp.canvas import CANVAS_MAX_BYTES
from inboxapp.models import ProactiveSend
from relay.engine import contact_relay

from .conftest import (
    JANE_INTERCOM_ID,
    JANE_PHONE,
    click,
    components,
    ids,
    initialize,
    intercom_opens,
    make_channel,
    words,
    wrote,
)

pytestmark = pytest.mark.django_db

TWILIO_SEND = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"


def saved(channel, name="Order update", body="Hi {{1}}, order {{2}} has shipped.", **fields):
    return MessageTemplate.objects.create(
        channel=channel, name=name, language=fields.get("language", "en"), body=body
    )


def to_compose(channel) -> dict:
    return click(click(initialize(), "this_contact"), f"channel-{channel.pk}")


def to_fill(channel, text) -> dict:
    return click(to_compose(channel), f"saved-{text.pk}")


def inputs_of(canvas: dict) -> dict[str, str]:
    return {c["id"]: c["value"] for c in components(canvas) if c["type"] == "input"}


def saved_buttons(canvas: dict) -> list[str]:
    return [c["label"] for c in components(canvas) if c.get("id", "").startswith("saved-")]


def test_the_compose_screen_offers_the_channels_saved_texts_in_alphabetical_order(workspace, sms):
    saved(sms, "Refund", "Your refund of {{1}} is on its way.")
    saved(sms, "Order update")
    saved(sms, "Order update", "Hola {{1}}, pedido {{2}} enviado.", language="es")

    canvas = to_compose(sms)

    assert saved_buttons(canvas) == ["Order update (en)", "Order update (es)", "Refund (en)"]
    assert "Your refund of {{1}} is on its way." in words(canvas)
    # The free text is still there, first.
    assert ids(canvas)[:2] == ["text", "preview"]


def test_at_most_ten_saved_texts_are_shown_and_the_rest_counted(workspace, sms):
    for number in range(12):
        saved(sms, f"Text {number:02d}", "x" * 1000 + " {{1}}")

    canvas = to_compose(sms)

    assert saved_buttons(canvas) == [f"Text {number:02d} (en)" for number in range(10)]
    assert "10 of 12 saved texts shown, in alphabetical order" in words(canvas)
    assert len(json.dumps(canvas["canvas"]["content"]).encode()) < CANVAS_MAX_BYTES


def test_only_this_channels_saved_texts_are_offered(workspace, sms, telegram):
    saved(telegram, "Bot greeting", "Hello from the bot")
    saved(sms, "Line greeting", "Hello from the line")

    assert saved_buttons(to_compose(sms)) == ["Line greeting (en)"]


@pytest.mark.parametrize("kind", ["telegram", "messenger"])
def test_telegram_and_messenger_offer_their_saved_texts(workspace, kind, request):
    channel = request.getfixturevalue(kind)
    Contact.objects.create(
        channel=channel, external_id="chat-1", inbox_contact_id=JANE_INTERCOM_ID, name="Jane"
    )
    text = saved(channel, "Follow-up", "Any news on {{1}}?")

    assert saved_buttons(to_compose(channel)) == ["Follow-up (en)"]
    assert inputs_of(to_fill(channel, text)) == {"value-1": ""}


def test_whatsapp_offers_saved_texts_inside_its_window_only(workspace, whatsapp, jane_on_whatsapp):
    text = saved(whatsapp)
    wrote(jane_on_whatsapp, hours_ago=1)
    assert saved_buttons(to_compose(whatsapp)) == ["Order update (en)"]
    fill = to_fill(whatsapp, text)

    Message.objects.filter(contact=jane_on_whatsapp).delete()
    wrote(jane_on_whatsapp, hours_ago=25)

    closed = to_compose(whatsapp)
    assert saved_buttons(closed) == []
    assert "only an approved template can be sent now" in words(closed)
    # A fill screen from before the window closed leads to no preview.
    late = click(fill, "saved_preview", {"value-1": "Jane", "value-2": "A-17"})
    assert "send" not in ids(late)
    assert "only an approved template can be sent now" in words(late)


def test_picking_one_asks_for_each_numbered_value_with_nothing_guessed(workspace, sms):
    text = saved(sms, body="Hi {{1}}, order {{2}} has shipped. Thanks, {{1}}!")

    canvas = to_fill(sms, text)

    assert components(canvas)[0]["text"] == "Saved text Order update"
    # Shown as Markdown text, escaped so it is never formatting of ours.
    assert "Hi {{1}}, order {{2}} has shipped. Thanks, {{1}}\\!" in words(canvas)
    # Jane's name is known from the contact, but {{1}} says nothing of what it holds.
    assert inputs_of(canvas) == {"value-1": "", "value-2": ""}
    assert [c["label"] for c in components(canvas) if c["type"] == "input"] == [
        "{{1}}",
        "{{2}}",
    ]
    assert ids(canvas) == ["value-1", "value-2", "saved_preview", f"channel-{sms.pk}"]


def test_the_preview_is_exactly_what_the_customer_gets(workspace, sms):
    sms.signature = "— {agent_name}, {channel_name}"
    sms.save()
    text = saved(sms)

    canvas = click(to_fill(sms, text), "saved_preview", {"value-1": " Jane ", "value-2": "A-17"})

    assert components(canvas)[0]["text"] == "Preview"
    assert components(canvas)[2]["text"] == (
        "Hi Jane, order A-17 has shipped.\n\n— Ann Agent, Twilio line"
    )
    assert ids(canvas) == ["send", "send_open", "edit"]
    stored = canvas["canvas"]["stored_data"]
    assert stored["text"] == "Hi Jane, order A-17 has shipped."
    assert (stored["saved"], stored["values"]) == (text.pk, ["Jane", "A-17"])


def test_a_value_left_empty_is_refused_and_nothing_is_sent(workspace, sms):
    text = saved(sms)

    canvas = click(to_fill(sms, text), "saved_preview", {"value-1": "Jane", "value-2": "  "})

    assert "{{2}} is empty: fill in every value. Nothing was sent." in words(canvas)
    assert inputs_of(canvas) == {"value-1": "Jane", "value-2": "  "}
    assert "send" not in ids(canvas)
    missing = click(to_fill(sms, text), "saved_preview", {})
    assert "{{1}}, {{2}} are empty" in words(missing)
    assert not Message.objects.exists()
    assert not ProactiveSend.objects.exists()


def test_values_are_bounded_like_the_free_text(workspace, sms):
    text = saved(sms, body="Note: {{1}}")

    too_long = click(to_fill(sms, text), "saved_preview", {"value-1": "x" * 501})
    # "Note: " and 495 characters: each value fits, the message does not.
    too_much = click(to_fill(sms, text), "saved_preview", {"value-1": "y" * 495})

    assert "{{1}}: a value can be at most 500 characters." in words(too_long)
    # Given back cut to what can be sent, as the free text is.
    assert inputs_of(too_long)["value-1"] == "x" * 500
    assert "the message is 501 characters long; at most 500 can be sent" in words(too_much)
    assert "send" not in ids(too_long) + ids(too_much)


def test_a_value_holding_a_nul_character_is_refused(workspace, sms):
    text = saved(sms, body="Note: {{1}}")

    canvas = click(to_fill(sms, text), "saved_preview", {"value-1": "a\u0000b"})

    assert "NUL character" in words(canvas)
    assert "send" not in ids(canvas)


def test_a_saved_text_without_variables_is_sent_as_it_is(workspace, sms):
    text = saved(sms, "Thanks", "Thanks for your patience.")

    fill = to_fill(sms, text)
    canvas = click(fill, "saved_preview")

    assert "This saved text takes no values" in words(fill)
    assert canvas["canvas"]["stored_data"]["text"] == "Thanks for your patience."


def test_edit_goes_back_to_the_values_given(workspace, sms):
    text = saved(sms)
    preview = click(to_fill(sms, text), "saved_preview", {"value-1": "Jane", "value-2": "A-17"})

    canvas = click(preview, "edit")

    assert components(canvas)[0]["text"] == "Saved text Order update"
    assert inputs_of(canvas) == {"value-1": "Jane", "value-2": "A-17"}


def test_send_goes_through_the_free_text_path_once(mocked, workspace, sms):
    sms.signature = "— {agent_name}"
    sms.save()
    text = saved(sms)
    mocked.post(TWILIO_SEND, json={"sid": "SM" + "a" * 32, "status": "queued"}, status=201)
    preview = click(to_fill(sms, text), "saved_preview", {"value-1": "Jane", "value-2": "A-17"})

    first = click(preview, "send")
    second = click(preview, "send")
    message = Message.objects.get(direction=Direction.OUTBOUND)
    contact_relay(contact_id=message.contact_id)

    assert ProactiveSend.objects.count() == 1
    assert first["canvas"]["stored_data"]["send"] == second["canvas"]["stored_data"]["send"]
    assert (message.channel, message.type, message.text) == (
        sms,
        "text",
        "Hi Jane, order A-17 has shipped.",
    )
    assert message.contact.phone_e164 == JANE_PHONE
    sent = [call for call in mocked.calls if call.request.url == TWILIO_SEND]
    assert len(sent) == 1
    assert "Body=Hi+Jane%2C+order+A-17+has+shipped.%0A%0A%E2%80%94+Ann+Agent" in (
        sent[0].request.body
    )


def test_send_and_open_conversation_opens_it_with_the_text_as_the_customer_sees_it(
    mocked, workspace, sms
):
    text = saved(sms)
    intercom_opens(mocked)
    preview = click(to_fill(sms, text), "saved_preview", {"value-1": "Jane", "value-2": "A-17"})

    status = click(preview, "send_open")

    assert json.loads(mocked.calls[0].request.body)["body"] == (
        "<p>Hi Jane, order A-17 has shipped.</p>"
    )
    assert ProactiveSend.objects.get().inbox_conversation_id == "8001"
    assert "An Intercom conversation was opened" in words(status)


def test_a_forged_id_of_another_channels_or_accounts_saved_text_is_refused(
    cast, workspace, sms, telegram
):
    ours = saved(sms)
    other_channel = saved(telegram, "Bot secret", "Bot text {{1}}")
    theirs_channel = make_channel(
        cast.other_workspace,
        "sms",
        "Globex secret line",
        "+15559990000",
        {"account_sid": "AC" + "1" * 32, "auth_token": "u" * 32, "phone_number": "+15559990000"},
    )
    other_account = saved(theirs_channel, "Globex secret", "Globex text {{1}}")
    compose = to_compose(sms)
    fill = click(compose, f"saved-{ours.pk}")

    answers = []
    for forged in (other_channel, other_account):
        answers.append(click(compose, f"saved-{forged.pk}"))
        tampered = {"canvas": {**fill["canvas"], "stored_data": {**fill["canvas"]["stored_data"]}}}
        tampered["canvas"]["stored_data"]["saved"] = forged.pk
        answers.append(click(tampered, "saved_preview", {"value-1": "x"}))
    answers.append(click(compose, "saved-nope"))
    # Another account's channel named as this screen's channel is not reached either.
    moved = {"canvas": {**fill["canvas"], "stored_data": {**fill["canvas"]["stored_data"]}}}
    moved["canvas"]["stored_data"].update(channel=theirs_channel.pk, saved=other_account.pk)
    answers.append(click(moved, "saved_preview", {"value-1": "x"}))

    everything = json.dumps(answers)
    assert "secret" not in everything.lower()
    for answer in answers:
        assert "That saved text is not one of this channel's" in words(answer)
        assert ids(answer) == ["start"]
    assert not Message.objects.exists()


def test_a_saved_text_removed_after_the_preview_still_sends_the_preview(mocked, workspace, sms):
    """The preview holds the text the teammate saw; it is what goes."""
    text = saved(sms)
    preview = click(to_fill(sms, text), "saved_preview", {"value-1": "Jane", "value-2": "A-17"})
    text.delete()

    click(preview, "send")

    assert Message.objects.get().text == "Hi Jane, order A-17 has shipped."
