from django.urls import path

from . import views

app_name = "channels"

urlpatterns = [
    path("hooks/<str:kind>/<str:key>/", views.webhook, name="webhook"),
]
