from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.team, name="team"),
    path("invite/", views.invite, name="invite"),
    path("invitations/<int:pk>/cancel/", views.invitation_cancel, name="invitation_cancel"),
    path("members/<int:pk>/role/", views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("switch/", views.switch_account, name="switch"),
    path("join/<str:token>/", views.invitation, name="invitation"),
]
