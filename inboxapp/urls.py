from django.urls import path

from . import views

app_name = "inboxapp"

# Under /hooks/: served by the lean webhook handler (octopods/wsgi.py), and no secret
# in the path to mask in logs.
urlpatterns = [
    path("hooks/intercom/canvas/initialize/", views.initialize, name="initialize"),
    path("hooks/intercom/canvas/submit/", views.submit, name="submit"),
    path("workspaces/<int:pk>/inbox-app/", views.settings_save, name="settings"),
]
