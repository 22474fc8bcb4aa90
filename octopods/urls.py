from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views

# Support staff sign in through allauth like everyone else, so its rate limits and
# e-mail verification also guard the admin; Django's own admin login has neither.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Octopods support"
admin.site.site_title = "Octopods support"

urlpatterns = [
    path("", include("workspaces.urls")),
    path("", include("integrations.urls")),
    path("", include("channels.urls")),
    path("", include("inboxapp.urls")),
    path("team/", include("accounts.urls")),
    # Sign-up writes the user, the account and the membership in one transaction.
    path("auth/signup/", account_views.signup, name="account_signup"),
    path("auth/", include("allauth.urls")),
    path("support/", admin.site.urls),
]

# A database that cannot be reached answers 503 with Retry-After (octopods/middleware.py).
handler500 = "octopods.middleware.server_error"

# Stand-ins for the providers on a laptop and in tests; never mounted in production.
if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
