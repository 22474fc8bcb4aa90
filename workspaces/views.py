from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import account_required, account_role
from integrations.registry import channel_labels

from .models import ContactMatch, Provider, Status, Workspace
from .selectors import workspace_for_account, workspace_rows_for_account
from .services import workspace_contact_match_set, workspace_remove

# The seed's wording for each provider's card on Connected Workspaces.
CONNECT_CARDS = [
    {"provider": Provider.INTERCOM, "label": "Intercom", "text": "Link your Intercom workspace"},
    {"provider": Provider.HUBSPOT, "label": "HubSpot", "text": "Link your HubSpot portal"},
]


def _workspace_or_404(request, pk):
    try:
        return workspace_for_account(account=request.account, pk=pk)
    except Workspace.DoesNotExist:
        raise Http404("No such workspace.") from None


@account_required
def index(request):
    """Connected Workspaces: the landing page after sign-in."""
    workspaces = workspace_rows_for_account(account=request.account)
    return render(
        request,
        "workspaces/index.html",
        {
            "workspaces": workspaces,
            "needing_reconnect": [w for w in workspaces if w.status == Status.NEEDS_RECONNECT],
            "connect_cards": CONNECT_CARDS,
        },
    )


@account_required
def detail(request, pk):
    workspace = _workspace_or_404(request, pk)
    return render(
        request,
        "workspaces/detail.html",
        {
            "workspace": workspace,
            "channels": list(workspace.channels.all()),
            "channel_kinds": channel_labels("or"),
            "contact_match_form": ContactMatchForm(
                initial={"contact_match": workspace.contact_match}, label_suffix=""
            ),
        },
    )


class ContactMatchForm(forms.Form):
    contact_match = forms.ChoiceField(
        label="When several contacts in the inbox have the customer's number, send the messages to",
        choices=ContactMatch.choices,
        widget=forms.RadioSelect,
    )


@require_POST
@account_role("admin")
def contact_match(request, pk):
    workspace = _workspace_or_404(request, pk)
    form = ContactMatchForm(request.POST)
    if form.is_valid():
        workspace_contact_match_set(
            workspace=workspace, contact_match=form.cleaned_data["contact_match"]
        )
        messages.success(request, "Contact matching saved.")
    else:
        messages.error(request, "Choose one of the ways to pick a contact.")
    return redirect("workspaces:detail", pk=workspace.pk)


@require_http_methods(["GET", "POST"])
@account_role("admin")
def remove(request, pk):
    """Confirm, naming what goes, then delete the workspace and its channels."""
    workspace = _workspace_or_404(request, pk)
    if request.method == "POST":
        workspace_remove(workspace=workspace)
        messages.success(request, f"{workspace.name} and its channels were removed.")
        return redirect("workspaces:index")
    return render(
        request,
        "workspaces/remove.html",
        {"workspace": workspace, "channels": list(workspace.channels.all())},
    )
