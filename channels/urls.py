from django.urls import path

from . import views

app_name = "channels"

urlpatterns = [
    path("hooks/<str:kind>/<str:key>/", views.webhook, name="webhook"),
    path("workspaces/<int:pk>/channels/add/", views.add_kind, name="add_kind"),
    path("workspaces/<int:pk>/channels/add/<str:kind>/", views.add, name="add"),
    path("channels/<int:pk>/", views.detail, name="detail"),
    path("channels/<int:pk>/remove/", views.remove, name="remove"),
]
