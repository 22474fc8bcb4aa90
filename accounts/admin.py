"""The support admin (mounted at /support/) for users, accounts, memberships, invitations."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.forms import UserCreationForm as BaseUserCreationForm
from django.core.exceptions import ValidationError
from django.db.models import Count

from .models import Account, Invitation, Membership, Role, User
from .services import TeamError, membership_remove

LAST_ADMIN_MESSAGE = (
    "An account with members needs at least one admin. Make another member an admin first."
)


def _clean_unique_email(form) -> str:
    """E-mail addresses are unique regardless of case, as allauth treats them."""
    email = User.objects.normalize_email(form.cleaned_data.get("email", ""))
    others = User.objects.filter(email__iexact=email)
    if form.instance.pk is not None:
        others = others.exclude(pk=form.instance.pk)
    if email and others.exists():
        raise ValidationError("A user with this e-mail address already exists.")
    return email


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self):
        return _clean_unique_email(self)


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self):
        return _clean_unique_email(self)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name",)}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")
    list_display = ("email", "name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "name")
    ordering = ("email",)


class MembershipInlineFormSet(forms.BaseInlineFormSet):
    """Refuse edits that would leave an account with members but no admin."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        admins_before = sum(
            1 for form in self.initial_forms if form.initial.get("role") == Role.ADMIN
        )
        kept = [
            form
            for form in self.forms
            if (form.instance.pk is not None or form.has_changed())
            and not self._should_delete_form(form)
        ]
        admins_after = sum(1 for form in kept if form.cleaned_data.get("role") == Role.ADMIN)
        if admins_before and kept and not admins_after:
            raise ValidationError(LAST_ADMIN_MESSAGE)


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipInlineFormSet
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at", "member_count")
    search_fields = ("name",)
    readonly_fields = ("created_at",)
    inlines = (MembershipInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_member_count=Count("memberships", distinct=True))
        )

    @admin.display(description="Members", ordering="_member_count")
    def member_count(self, obj):
        return obj._member_count


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "account", "role")

    def clean(self):
        cleaned_data = super().clean()
        membership = self.instance
        demoted = (
            membership.pk is not None
            and self.initial.get("role") == Role.ADMIN
            and cleaned_data.get("role") != Role.ADMIN
        )
        if demoted:
            other_admins = Membership.objects.filter(
                account_id=membership.account_id, role=Role.ADMIN
            ).exclude(pk=membership.pk)
            if not other_admins.exists():
                raise ValidationError(LAST_ADMIN_MESSAGE)
        return cleaned_data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ("user", "account", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "account__name")
    list_select_related = ("user", "account")
    autocomplete_fields = ("user", "account")

    def delete_model(self, request, obj):
        # Deletion goes through the service so the last-admin rule holds here too.
        try:
            membership_remove(membership=obj)
        except TeamError as error:
            self.message_user(request, f"{obj}: {error}", level=messages.ERROR)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            self.delete_model(request, membership)

    def get_readonly_fields(self, request, obj=None):
        # Moving a membership to another user or account is a delete and an add.
        if obj is not None:
            return ("user", "account", "created_at")
        return ("created_at",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are sent from the team page (the token exists only in that e-mail);
    support can look them up, change the role, or delete (revoke) them."""

    list_display = ("email", "account", "role", "created_at", "expires_at", "accepted_at")
    list_filter = ("role",)
    search_fields = ("email", "account__name")
    list_select_related = ("account",)
    # token_hash is never shown nor editable.
    fields = (
        "email",
        "account",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    )
    exclude = ("token_hash",)
    readonly_fields = (
        "email",
        "account",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    )

    def has_add_permission(self, request):
        return False
