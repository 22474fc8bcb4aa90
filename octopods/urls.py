from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("", include("workspaces.urls")),
    path("team/", include("accounts.urls")),
    # Sign-up writes the user, the account and the membership in one transaction.
    path("auth/signup/", account_views.signup, name="account_signup"),
    path("auth/", include("allauth.urls")),
    path("support/", admin.site.urls),
]
