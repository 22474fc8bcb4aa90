from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.decorators import account_required, account_role

from .models import Provider, Workspace
from .selectors import workspace_for_account, workspaces_for_account

# The seed's wording for each provider's card on Connected Workspaces.
CONNECT_CARDS = [
    {"provider": Provider.INTERCOM, "label": "Intercom", "text": "Link your Intercom workspace"},
    {"provider": Provider.HUBSPOT, "label": "HubSpot", "text": "Link your HubSpot portal"},
]


@account_required
def index(request):
    """Connected Workspaces: the landing page after sign-in."""
    return render(
        request,
        "workspaces/index.html",
        {
            "workspaces": workspaces_for_account(account=request.account),
            "connect_cards": CONNECT_CARDS,
        },
    )


@account_required
def detail(request, pk):
    try:
        workspace = workspace_for_account(account=request.account, pk=pk)
    except Workspace.DoesNotExist:
        raise Http404("No such workspace.") from None
    return render(
        request,
        "workspaces/detail.html",
        {"workspace": workspace, "channels": list(workspace.channels.all())},
    )


@require_POST
@account_role("admin")
def connect(request, provider):
    if provider not in Provider.values:
        raise Http404("Unknown provider.")
    label = Provider(provider).label
    return render(
        request,
        "workspaces/connect_unavailable.html",
        {"provider_label": label},
        status=503,
    )
