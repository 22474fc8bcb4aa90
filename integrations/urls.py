from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("connect/<str:provider>/", views.connect, name="connect"),
    path("oauth/<str:provider>/callback/", views.callback, name="callback"),
    path("workspaces/<int:pk>/disconnect/", views.disconnect, name="disconnect"),
    path("workspaces/<int:pk>/check/", views.check, name="check"),
    path("hooks/intercom/uninstall/", views.intercom_uninstall, name="intercom_uninstall"),
]
