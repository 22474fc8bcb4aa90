from allauth.core import context
from django import forms

from .adapter import EMAIL_MAX_LENGTH
from .models import Role
from .selectors import SESSION_ACCOUNT_KEY
from .services import (
    account_create_for_signup,
    invitation_accept,
    invitation_for_token,
    invitation_problem,
)

SESSION_INVITATION_KEY = "invitation_token"


def _pending_invitation(request):
    token = request.session.get(SESSION_INVITATION_KEY) if request is not None else None
    if not token:
        return None
    invitation = invitation_for_token(token)
    return invitation if invitation_problem(invitation) is None else None


class SignupForm(forms.Form):
    """Extra sign-up fields (allauth builds the e-mail and password fields around it).

    Signing up creates an account with the name given here and makes the user its
    admin; signing up through an invitation link joins the inviting account instead.
    """

    account_name = forms.CharField(
        label="Account name",
        max_length=120,
        help_text="Your company or team. You can invite teammates to it later.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )

    field_order = ["account_name", "email", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = _pending_invitation(context.request)
        if self.invitation is not None:
            del self.fields["account_name"]
            self.initial.setdefault("email", self.invitation.email)

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        invited = self.invitation.email.lower() if self.invitation is not None else None
        if invited and email and email.strip().lower() != invited:
            self.add_error(
                "email",
                f"This invitation was sent to {self.invitation.email}. Sign up with "
                "that address, or ask the admin who invited you for a new invitation.",
            )
        return cleaned

    def signup(self, request, user):
        if self.invitation is not None:
            membership = invitation_accept(invitation=self.invitation, user=user)
            request.session.pop(SESSION_INVITATION_KEY, None)
        else:
            account = account_create_for_signup(user=user, name=self.cleaned_data["account_name"])
            membership = account.memberships.get(user=user)
        request.session[SESSION_ACCOUNT_KEY] = membership.account_id


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=EMAIL_MAX_LENGTH)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SwitchAccountForm(forms.Form):
    # An id the column can hold: a larger number is no account (SQLite raised on it).
    account = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
