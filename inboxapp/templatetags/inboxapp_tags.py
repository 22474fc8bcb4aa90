from django import template

from inboxapp.selectors import assigns_answer_to_sender

register = template.Library()


@register.inclusion_tag("inboxapp/_settings.html", takes_context=True)
def inbox_app_settings(context, workspace):
    """The inbox app's section of an Intercom workspace's page (the workspaces app does
    not import this one; its page only loads this tag)."""
    membership = context.get("current_membership")
    return {
        "workspace": workspace,
        "is_admin": bool(membership and membership.is_admin),
        "assign_answer_to_sender": assigns_answer_to_sender(workspace=workspace),
        "csrf_token": context.get("csrf_token"),
    }
