from django.utils.functional import SimpleLazyObject

from .selectors import memberships_for_user


def current_account(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_account": getattr(request, "account", None),
        "current_membership": getattr(request, "membership", None),
        # Only queried when a template shows the account switcher.
        "user_memberships": SimpleLazyObject(lambda: memberships_for_user(user=user)),
    }
