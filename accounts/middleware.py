from .selectors import SESSION_ACCOUNT_KEY, membership_for_request


class CurrentAccountMiddleware:
    """Resolve ``request.account`` from the signed-in user's own memberships only.

    The session remembers which account the user switched to; an id there that is not
    one of the user's memberships is ignored, never trusted.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.account = None
        if request.user.is_authenticated:
            membership = membership_for_request(
                user=request.user, account_id=request.session.get(SESSION_ACCOUNT_KEY)
            )
            if membership is not None:
                request.membership = membership
                request.account = membership.account
                if request.session.get(SESSION_ACCOUNT_KEY) != membership.account_id:
                    request.session[SESSION_ACCOUNT_KEY] = membership.account_id
        return self.get_response(request)
