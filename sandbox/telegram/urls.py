"""Telegram's Bot API: TELEGRAM_API_URL = {base}/sandbox/telegram."""

from django.urls import re_path

from . import api

urlpatterns = [
    re_path(
        r"^telegram/file/bot(?P<token>[^/]+)/(?P<file_path>.+)$",
        api.file,
        name="telegram_file",
    ),
    re_path(
        r"^telegram/bot(?P<token>[^/]+)/(?P<name>[A-Za-z]+)/?$",
        api.method,
        name="telegram_method",
    ),
]
