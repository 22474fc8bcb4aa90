from django.utils.functional import SimpleLazyObject

from .selectors import memberships_for_user


def current_account(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_account": getattr(request, "account", None),
        "current_membership": getattr(request, "membership", None),
        # Read with the current account (accounts/middleware.py); queried here only for
        # a request that middleware did not see.
        "user_memberships": request.memberships
        if hasattr(request, "memberships")
        else SimpleLazyObject(lambda: memberships_for_user(user=user)),
    }
