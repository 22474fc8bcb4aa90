"""Customer files behind our signed links: only images, audio and video are shown
inline; everything else is a download, and no file can run as a page of ours."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from relay.media import media_url

pytestmark = pytest.mark.django_db


def serve(client, name: str, content: bytes = b"x"):
    path = default_storage.save(f"media/test/{name}", ContentFile(content))
    url = media_url(path)
    return client.get("/" + url.split("://", 1)[1].split("/", 1)[1])


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("photo.jpg", "image/jpeg"),
        ("photo.png", "image/png"),
        ("sticker.webp", "image/webp"),
        ("voice.ogg", "audio/ogg"),
        ("song.mp3", "audio/mpeg"),
        ("clip.mp4", "video/mp4"),
    ],
)
def test_images_audio_and_video_are_shown_inline(client, name, content_type):
    response = serve(client, name)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("inline")


@pytest.mark.parametrize(
    "name", ["page.html", "page.htm", "drawing.svg", "feed.xml", "script.js", "notes.txt", "x.pdf"]
)
def test_everything_else_is_a_download(client, name):
    response = serve(client, name, b"<html><form action='https://evil.example'></form></html>")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert not response["Content-Type"].startswith(("text/html", "image/svg", "text/xml"))


def test_markup_is_never_labelled_as_markup(client):
    assert serve(client, "page.html")["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("name", ["photo.jpg", "page.html"])
def test_files_cannot_sniff_run_or_post_anything(client, name):
    response = serve(client, name)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
