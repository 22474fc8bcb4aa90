from django.urls import path

from . import views

app_name = "workspaces"

urlpatterns = [
    path("", views.index, name="index"),
    path("workspaces/<int:pk>/", views.detail, name="detail"),
    path("workspaces/<int:pk>/remove/", views.remove, name="remove"),
    path("workspaces/<int:pk>/contact-match/", views.contact_match, name="contact_match"),
]
