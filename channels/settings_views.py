"""A channel's settings page and the forms it posts: welcome message, out-of-office
schedule, signature, message templates. Admins edit; members read."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import account_required, account_role
from integrations.registry import channel_adapter

from .automations import weekly_hours
from .forms import (
    NEW_CONVERSATION_AFTER,
    AwayForm,
    ConversationsForm,
    SignatureForm,
    TemplateForm,
    WelcomeForm,
)
from .models import MessageTemplate
from .settings_services import (
    TemplateNameTaken,
    channel_away_update,
    channel_conversations_update,
    channel_signature_update,
    channel_welcome_update,
    template_create,
    template_delete,
    template_update,
)
from .views import channel_or_404


def _template_or_404(channel, template_pk) -> MessageTemplate:
    try:
        return channel.templates.get(pk=template_pk)
    except MessageTemplate.DoesNotExist:
        raise Http404("No such template.") from None


def _back_to_settings(channel, section):
    return redirect(reverse("channels:settings", args=[channel.pk]) + f"#{section}")


def _settings_page(request, channel, *, invalid=None):
    """The page; ``invalid`` is a section's bound form with errors, shown as typed."""
    context = {
        "channel": channel,
        "is_admin": request.membership.is_admin,
        "weekly_hours": weekly_hours(channel.opening_hours.all()),
        "holidays": list(channel.holidays.all()),
        "templates": list(channel.templates.all()),
        "meta_templates": channel_adapter(channel.kind).approved_templates,
        "new_conversation_after": dict(NEW_CONVERSATION_AFTER).get(
            int(channel.new_conversation_after.total_seconds()), channel.new_conversation_after
        ),
    }
    if invalid is not None:
        messages.error(request, f"{invalid.title} not saved: see what to fix below.")
    if context["is_admin"]:
        for name, form_class in [
            ("welcome_form", WelcomeForm),
            ("conversations_form", ConversationsForm),
            ("away_form", AwayForm),
            ("signature_form", SignatureForm),
        ]:
            keep = invalid is not None and isinstance(invalid, form_class)
            context[name] = invalid if keep else form_class.from_channel(channel)
    return render(
        request, "channels/settings.html", context, status=200 if invalid is None else 400
    )


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def settings_page(request, pk):
    channel = channel_or_404(request, pk, with_settings=True)
    if request.method == "POST":
        # Each section posts to its own URL; a POST here changes nothing, and to a
        # member it is an admin's action all the same.
        if not request.membership.is_admin:
            raise PermissionDenied(
                "Only admins can do this. Ask an admin of "
                f"{request.account.name} to do it or to upgrade your role."
            )
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _settings_page(request, channel)


@require_POST
@account_role("admin")
def settings_welcome(request, pk):
    channel = channel_or_404(request, pk, with_settings=True)
    form = WelcomeForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, channel, invalid=form)
    channel_welcome_update(
        channel=channel, enabled=form.cleaned_data["enabled"], message=form.cleaned_data["message"]
    )
    messages.success(request, "Welcome message saved.")
    return _back_to_settings(channel, "welcome")


@require_POST
@account_role("admin")
def settings_conversations(request, pk):
    channel = channel_or_404(request, pk, with_settings=True)
    form = ConversationsForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, channel, invalid=form)
    channel_conversations_update(
        channel=channel,
        new_conversation_after=timedelta(seconds=form.cleaned_data["new_conversation_after"]),
    )
    messages.success(request, "Conversation setting saved.")
    return _back_to_settings(channel, "conversations")


@require_POST
@account_role("admin")
def settings_away(request, pk):
    channel = channel_or_404(request, pk, with_settings=True)
    form = AwayForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, channel, invalid=form)
    data = form.cleaned_data
    channel_away_update(
        channel=channel,
        enabled=data["enabled"],
        time_zone=data["time_zone"],
        message=data["message"],
        hours=data["hours"],
        holidays=data["holidays"],
    )
    messages.success(request, "Out-of-office saved.")
    return _back_to_settings(channel, "away")


@require_POST
@account_role("admin")
def settings_signature(request, pk):
    channel = channel_or_404(request, pk, with_settings=True)
    form = SignatureForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, channel, invalid=form)
    channel_signature_update(channel=channel, signature=form.cleaned_data["signature"])
    messages.success(request, "Signature saved.")
    return _back_to_settings(channel, "signature")


def _template_page(request, channel, form, template=None):
    return render(
        request,
        "channels/template_form.html",
        {"channel": channel, "form": form, "template": template},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@account_role("admin")
def template_add(request, pk):
    channel = channel_or_404(request, pk)
    if request.method == "GET":
        return _template_page(request, channel, TemplateForm(channel=channel))
    form = TemplateForm(request.POST, channel=channel)
    if form.is_valid():
        try:
            template = template_create(channel=channel, **form.cleaned_data)
        except TemplateNameTaken as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Template “{template}” added.")
            return _back_to_settings(channel, "templates")
    return _template_page(request, channel, form)


@require_http_methods(["GET", "POST"])
@account_role("admin")
def template_edit(request, pk, template_pk):
    channel = channel_or_404(request, pk)
    template = _template_or_404(channel, template_pk)
    if request.method == "GET":
        return _template_page(
            request, channel, TemplateForm(channel=channel, template=template), template
        )
    form = TemplateForm(request.POST, channel=channel, template=template)
    if form.is_valid():
        try:
            template_update(template=template, **form.cleaned_data)
        except TemplateNameTaken as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Template “{template}” saved.")
            return _back_to_settings(channel, "templates")
    return _template_page(request, channel, form, template)


@require_POST
@account_role("admin")
def template_delete_view(request, pk, template_pk):
    channel = channel_or_404(request, pk)
    template = _template_or_404(channel, template_pk)
    template_delete(template=template)
    messages.success(request, f"Template “{template}” deleted.")
    return _back_to_settings(channel, "templates")
