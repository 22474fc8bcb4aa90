"""Viber's REST bot API: VIBER_API_URL = {base}/sandbox/viber/pa; its media host; and the
Viber-only things a customer does on the phone (open the chat, subscribe, a sticker)."""

from django.urls import path, re_path

from . import api, phone

urlpatterns = [
    re_path(r"^viber/pa/(?P<name>[a-z_]+)/?$", api.method, name="viber_method"),
    path("viber/media/<str:ref>", api.file, name="viber_media"),
    path("viber/phone/", phone.chats, name="viber_chats"),
    path("viber/phone/<int:pk>/", phone.actions, name="viber_actions"),
    path("viber/phone/<int:pk>/act", phone.act, name="viber_act"),
]
