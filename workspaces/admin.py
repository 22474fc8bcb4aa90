"""The support admin for workspaces. OAuth tokens are never loaded into a form or page."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.template.response import TemplateResponse

from accounts.models import Account

from .models import Workspace
from .services import workspace_move

# Secrets stay out of every form, list and page; the queryset does not even load them.
TOKEN_FIELDS = ("access_token", "refresh_token")


class MoveWorkspacesForm(forms.Form):
    to_account = forms.ModelChoiceField(
        queryset=Account.objects.all(),
        label="Target account",
        empty_label="Choose an account",
    )


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "provider",
        "external_id",
        "account",
        "status",
        "connected_by",
        "updated_at",
    )
    list_filter = ("provider", "status")
    search_fields = ("name", "external_id", "account__name", "connected_by__email")
    list_select_related = ("account", "connected_by")
    fields = (
        "name",
        "account",
        "provider",
        "external_id",
        "status",
        "connected_by",
        "has_token",
        "token_expires_at",
        "created_at",
        "updated_at",
    )
    exclude = TOKEN_FIELDS
    # The account changes only through the move action (workspace_move); the provider
    # identity comes from the OAuth connection.
    readonly_fields = (
        "account",
        "provider",
        "external_id",
        "has_token",
        "token_expires_at",
        "created_at",
        "updated_at",
    )
    autocomplete_fields = ("connected_by",)
    actions = ("move_to_account",)
    move_template = "admin/workspaces/move_workspace.html"

    def get_queryset(self, request):
        # Deferring the tokens keeps them out of memory and makes a save from the change
        # form write only the loaded columns, so it cannot undo a concurrent refresh.
        return (
            super()
            .get_queryset(request)
            .defer(*TOKEN_FIELDS)
            .annotate(
                _has_token=ExpressionWrapper(~Q(access_token=""), output_field=BooleanField())
            )
        )

    def has_add_permission(self, request):
        # Workspaces are created by the OAuth connect flow, which obtains the tokens.
        return False

    @admin.display(description="Has token", boolean=True)
    def has_token(self, obj):
        return obj._has_token

    @admin.action(permissions=["change"], description="Move to another account…")
    def move_to_account(self, request, queryset):
        if "apply" in request.POST:
            form = MoveWorkspacesForm(request.POST)
            if form.is_valid():
                self._move(request, queryset, form.cleaned_data["to_account"])
                return None  # back to the change list
        else:
            form = MoveWorkspacesForm()

        workspaces = (
            queryset.select_related("account")
            .annotate(channel_count=Count("channels"))
            .order_by("name", "pk")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Move workspaces to another account",
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "workspaces": workspaces,
            "action_name": "move_to_account",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.move_template, context)

    def _move(self, request, queryset, to_account):
        moved, already_there = [], []
        for workspace in queryset.select_related("account").order_by("name", "pk"):
            if workspace.account_id == to_account.pk:
                already_there.append(workspace)
                continue
            from_account = workspace.account
            workspace_move(workspace=workspace, to_account=to_account, moved_by=request.user)
            self.log_change(
                request,
                workspace,
                f"Moved from account “{from_account}” (#{from_account.pk}) "
                f"to “{to_account}” (#{to_account.pk}).",
            )
            moved.append(f"{workspace.name} (from {from_account.name})")
        if moved:
            self.message_user(
                request,
                f"Moved {len(moved)} workspace{'s' if len(moved) != 1 else ''} "
                f"to {to_account.name}: {', '.join(moved)}.",
                messages.SUCCESS,
            )
        if already_there:
            names = ", ".join(w.name for w in already_there)
            self.message_user(
                request,
                f"Already in {to_account.name}, left as they were: {names}.",
                messages.WARNING,
            )
