import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from .selectors import SESSION_ACCOUNT_KEY, memberships_for_request


class CurrentAccountMiddleware:
    """Resolve ``request.account`` from the signed-in user's own memberships only.

    The session remembers which account the user switched to; an id there that is not
    one of the user's memberships is ignored, never trusted. ``request.memberships`` are
    all of the user's (the account switcher's), read in the same query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.account = None
        if request.user.is_authenticated:
            membership, request.memberships = memberships_for_request(
                user=request.user, account_id=request.session.get(SESSION_ACCOUNT_KEY)
            )
            if membership is not None:
                request.membership = membership
                request.account = membership.account
                if request.session.get(SESSION_ACCOUNT_KEY) != membership.account_id:
                    request.session[SESSION_ACCOUNT_KEY] = membership.account_id
        return self.get_response(request)


# The browser's IANA zone, written by static/js/app.js.
TIME_ZONE_COOKIE = "tz"
# IANA names are short ASCII paths ("America/Argentina/Buenos_Aires", "Etc/GMT+5").
# Anything else is refused before it reaches the file system lookup behind ZoneInfo.
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")
_ZONE_NAME_MAX = 64


def viewer_time_zone(name: str) -> ZoneInfo | None:
    """The zone called ``name``, or None when it is not a time zone we know."""
    if not name or len(name) > _ZONE_NAME_MAX or not _ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: some Pythons raise IsADirectoryError for a region such as "Europe".
        return None


class ViewerTimeZoneMiddleware:
    """Render times in the viewer's own time zone, taken from the ``tz`` cookie.

    Without the cookie (JavaScript off, the very first page) or with a value that is not
    a time zone, pages stay in UTC, which every timestamp names.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = viewer_time_zone(request.COOKIES.get(TIME_ZONE_COOKIE, ""))
        # override(None) is the default zone (UTC), and the zone never outlives the
        # request on a thread that serves someone else next.
        with timezone.override(zone):
            return self.get_response(request)
