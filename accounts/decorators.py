from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import Role


def account_required(view):
    """Signed in, with a current account (``request.account``)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.account is None:
            return render(request, "accounts/no_account.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def account_role(role: str):
    """Signed in with a current account in which the user has ``role``."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view):
        @account_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if role == Role.ADMIN and not request.membership.is_admin:
                raise PermissionDenied(
                    "Only admins can do this. Ask an admin of "
                    f"{request.account.name} to do it or to upgrade your role."
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
