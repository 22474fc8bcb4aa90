from allauth.account.adapter import get_adapter
from allauth.account.views import SignupView
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .decorators import account_required, account_role
from .forms import SESSION_INVITATION_KEY, InviteForm, RoleForm, SwitchAccountForm
from .models import Invitation, Membership
from .selectors import (
    SESSION_ACCOUNT_KEY,
    members_for_account,
    pending_invitations_for_account,
)
from .services import (
    InvitationUnavailable,
    TeamError,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_problem,
    invitation_revoke,
    membership_change_role,
    membership_remove,
)


class AtomicSignupView(SignupView):
    """allauth's sign-up, with the user, account and membership written together."""

    @transaction.atomic
    def form_valid(self, form):
        return super().form_valid(form)


signup = AtomicSignupView.as_view()


@account_required
def team(request, form=None):
    return render(
        request,
        "accounts/team.html",
        {
            "members": members_for_account(account=request.account),
            "invitations": pending_invitations_for_account(account=request.account),
            "invite_form": form or InviteForm(),
            "role_form": RoleForm(),
        },
        status=400 if form is not None else 200,
    )


@require_POST
@account_role("admin")
def invite(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        return team(request, form=form)
    try:
        invitation = invitation_create(
            account=request.account,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
    except TeamError as error:
        form.add_error("email", str(error))
        return team(request, form=form)
    messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("accounts:team")


@require_POST
@account_role("admin")
def invitation_cancel(request, pk):
    invitation = get_object_or_404(Invitation.objects.for_account(request.account), pk=pk)
    invitation_revoke(invitation=invitation)
    messages.success(request, f"Invitation to {invitation.email} cancelled.")
    return redirect("accounts:team")


@require_POST
@account_role("admin")
def member_role(request, pk):
    membership = get_object_or_404(Membership.objects.for_account(request.account), pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("accounts:team")
    try:
        membership_change_role(membership=membership, role=form.cleaned_data["role"])
    except TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"{membership.user.email} is now {membership.get_role_display().lower()}."
        )
    return redirect("accounts:team")


@require_POST
@account_role("admin")
def member_remove(request, pk):
    membership = get_object_or_404(Membership.objects.for_account(request.account), pk=pk)
    try:
        membership_remove(membership=membership)
    except TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"{membership.user.email} was removed from {request.account.name}."
        )
    return redirect("accounts:team")


@require_POST
@account_required
def switch_account(request):
    form = SwitchAccountForm(request.POST)
    if not form.is_valid():
        raise Http404
    membership = get_object_or_404(
        Membership.objects.select_related("account"),
        user=request.user,
        account_id=form.cleaned_data["account"],
    )
    request.session[SESSION_ACCOUNT_KEY] = membership.account_id
    messages.success(request, f"Switched to {membership.account.name}.")
    return redirect("workspaces:index")


INVITATION_PROBLEM_STATUS = {"invalid": 404, "used": 410, "expired": 410, "wrong_account": 403}


def invitation(request, token):
    """The link in an invitation e-mail: join now, or sign up / sign in first."""
    invitation = invitation_for_token(token)
    user = request.user if request.user.is_authenticated else None
    problem = invitation_problem(invitation, email=user.email if user else None)
    if problem:
        return render(
            request,
            "accounts/invitation_problem.html",
            {"problem": problem, "invitation": invitation},
            status=INVITATION_PROBLEM_STATUS[problem],
        )
    if user is None:
        if request.method == "POST":
            return redirect_to_login(request.get_full_path())
        # Signing up through the link joins this account; the address the e-mail was
        # sent to is proven by the click, so allauth need not verify it again.
        request.session[SESSION_INVITATION_KEY] = token
        get_adapter(request).stash_verified_email(request, invitation.email)
        return render(request, "accounts/invitation.html", {"invitation": invitation})
    if request.method == "POST":
        try:
            membership = invitation_accept(invitation=invitation, user=user)
        except InvitationUnavailable as error:
            return render(
                request,
                "accounts/invitation_problem.html",
                {"problem": error.reason, "invitation": invitation},
                status=INVITATION_PROBLEM_STATUS[error.reason],
            )
        request.session[SESSION_ACCOUNT_KEY] = membership.account_id
        messages.success(request, f"You joined {membership.account.name}.")
        return redirect("workspaces:index")
    return render(request, "accounts/invitation.html", {"invitation": invitation})
