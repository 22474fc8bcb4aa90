"""Forms for a channel's settings. The rules they validate with are in automations.py;
each form's ``from_channel`` fills it with what is saved."""

from django import forms

from .automations import (
    AWAY_MAX_LENGTH,
    HOLIDAYS_MAX_LENGTH,
    SIGNATURE_MAX_LENGTH,
    TEMPLATE_BODY_MAX_LENGTH,
    WEEKDAYS,
    WELCOME_MAX_LENGTH,
    holidays_format,
    holidays_parse,
    hours_format,
    hours_parse,
    language_normalize,
    signature_check,
    template_variable_count,
    time_zone_check,
    time_zone_choices,
    weekly_hours,
)
from .models import Channel, MessageTemplate


class SettingsForm(forms.Form):
    """Labels without a trailing colon. (Several forms share the settings page, so each
    of those has a prefix to keep its field names and ids apart.)"""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class WelcomeForm(SettingsForm):
    prefix = "welcome"
    title = "Welcome message"

    enabled = forms.BooleanField(
        label="Send a welcome message to first-time customers", required=False
    )
    message = forms.CharField(
        label="Welcome message",
        required=False,
        max_length=WELCOME_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent once, the first time a customer writes to this channel.",
    )

    @classmethod
    def from_channel(cls, channel: Channel) -> "WelcomeForm":
        return cls(initial={"enabled": channel.welcome_enabled, "message": channel.welcome_message})

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("enabled") and "message" in cleaned and not cleaned["message"]:
            self.add_error("message", "Write the welcome message, or turn the welcome message off.")
        return cleaned


# The choices for "start a new conversation after": an hour to two weeks.
NEW_CONVERSATION_AFTER = [
    (3600, "1 hour"),
    (4 * 3600, "4 hours"),
    (12 * 3600, "12 hours"),
    (24 * 3600, "24 hours"),
    (2 * 86400, "2 days"),
    (3 * 86400, "3 days"),
    (7 * 86400, "1 week"),
    (14 * 86400, "2 weeks"),
]


class ConversationsForm(SettingsForm):
    prefix = "conversations"
    title = "Conversations"

    new_conversation_after = forms.TypedChoiceField(
        label="Start a new conversation when the last one has been closed for",
        choices=NEW_CONVERSATION_AFTER,
        coerce=int,
        help_text="Sooner than this, a customer writing again reopens their last "
        "conversation, so the team has the history in one place.",
    )

    @classmethod
    def from_channel(cls, channel: Channel) -> "ConversationsForm":
        seconds = int(channel.new_conversation_after.total_seconds())
        return cls(initial={"new_conversation_after": seconds})


def _weekday_field(name: str) -> forms.CharField:
    return forms.CharField(
        label=name,
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Closed"}),
    )


class AwayForm(SettingsForm):
    """Out-of-office: one text field per weekday ("09:00-12:00, 13:00-17:30") and a
    textarea of holidays, so the schedule is edited without any script."""

    prefix = "away"
    title = "Out-of-office"
    DAY_FIELDS = tuple(day.lower() for day in WEEKDAYS)

    enabled = forms.BooleanField(
        label="Reply with an away message outside opening hours", required=False
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        help_text="Opening hours and holidays are in this time zone's local time.",
    )
    monday = _weekday_field("Monday")
    tuesday = _weekday_field("Tuesday")
    wednesday = _weekday_field("Wednesday")
    thursday = _weekday_field("Thursday")
    friday = _weekday_field("Friday")
    saturday = _weekday_field("Saturday")
    sunday = _weekday_field("Sunday")
    holidays = forms.CharField(
        label="Holidays",
        required=False,
        max_length=HOLIDAYS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: YYYY-MM-DD and an optional name, e.g. 2025-12-25 Christmas "
        "Day. Closed all day.",
    )
    message = forms.CharField(
        label="Away message",
        required=False,
        max_length=AWAY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent when a customer writes while the channel is closed, at most once "
        "per conversation a day.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].error_messages["invalid_choice"] = (
            "“%(value)s” is not a time zone we know: choose one from the list."
        )

    @classmethod
    def from_channel(cls, channel: Channel) -> "AwayForm":
        initial = {
            "enabled": channel.away_enabled,
            "time_zone": channel.time_zone,
            "holidays": holidays_format(channel.holidays.all()),
            "message": channel.away_message,
        }
        for field, (_, blocks) in zip(
            cls.DAY_FIELDS, weekly_hours(channel.opening_hours.all()), strict=True
        ):
            initial[field] = hours_format(blocks)
        return cls(initial=initial)

    @property
    def day_fields(self):
        return [self[field] for field in self.DAY_FIELDS]

    def clean_time_zone(self):
        return time_zone_check(self.cleaned_data["time_zone"])

    def clean_holidays(self):
        return holidays_parse(self.cleaned_data["holidays"])

    def clean(self):
        cleaned = super().clean()
        hours = []
        for weekday, field in enumerate(self.DAY_FIELDS):
            if field not in cleaned:
                continue
            try:
                hours.extend(hours_parse(cleaned[field], weekday=weekday))
            except forms.ValidationError as error:
                self.add_error(field, error)
        cleaned["hours"] = hours
        if cleaned.get("enabled") and "message" in cleaned and not cleaned["message"]:
            self.add_error("message", "Write the away message, or turn out-of-office off.")
        return cleaned


class SignatureForm(SettingsForm):
    prefix = "signature"
    title = "Signature"

    signature = forms.CharField(
        label="Signature",
        required=False,
        max_length=SIGNATURE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Added to the end of every agent reply. It can use {agent_name} and "
        "{channel_name}. Leave it empty for no signature.",
    )

    @classmethod
    def from_channel(cls, channel: Channel) -> "SignatureForm":
        return cls(initial={"signature": channel.signature})

    def clean_signature(self):
        signature = self.cleaned_data["signature"]
        signature_check(signature)
        return signature


class TemplateForm(SettingsForm):
    name = forms.CharField(
        label="Name", max_length=100, help_text="How agents find it, e.g. Order update."
    )
    language = forms.CharField(
        label="Language", max_length=16, help_text="A language code such as en, en_US or pt_BR."
    )
    body = forms.CharField(
        label="Text",
        max_length=TEMPLATE_BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Variables are numbered in double braces from {{1}}: "
        "Hi {{1}}, your order {{2}} has shipped.",
    )

    def __init__(self, *args, channel: Channel, template: MessageTemplate | None = None, **kw):
        if template is not None:
            kw.setdefault(
                "initial",
                {
                    "name": template.name,
                    "language": template.language,
                    "body": template.body,
                },
            )
        super().__init__(*args, **kw)
        self.channel, self.template = channel, template

    def clean_language(self):
        return language_normalize(self.cleaned_data["language"])

    def clean_body(self):
        body = self.cleaned_data["body"]
        template_variable_count(body)
        return body

    def clean(self):
        cleaned = super().clean()
        name, language = cleaned.get("name"), cleaned.get("language")
        if name and language:
            others = self.channel.templates.filter(name=name, language=language)
            if self.template is not None:
                others = others.exclude(pk=self.template.pk)
            if others.exists():
                self.add_error(
                    "name",
                    f"This channel already has a template named “{name}” in {language}.",
                )
        return cleaned
