from allauth.account.adapter import DefaultAccountAdapter
from django import forms

# The users', e-mail addresses' and invitations' e-mail columns (RFC 5321's limit).
EMAIL_MAX_LENGTH = 254


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        """Every address allauth takes (sign-up, adding one) fits its column. The e-mail
        validator allows 320 characters; allauth stored a longer address cut to 254 on
        the user (a wrong address, and a 500 on the next sign-up with it) and failed
        with a 500 when one was added."""
        if len(email) > EMAIL_MAX_LENGTH:
            raise forms.ValidationError(
                f"Ensure this value has at most {EMAIL_MAX_LENGTH} characters "
                f"(it has {len(email)})."
            )
        return super().clean_email(email)
