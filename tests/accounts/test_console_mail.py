"""The README's quick start: the confirmation e-mail is printed by the development
server's console mailer, and its link must work when clicked or pasted as printed."""

import re

import pytest
from allauth.account.models import EmailAddress

from octopods.mail import ConsoleEmailBackend

pytestmark = pytest.mark.django_db

FORM = {
    "account_name": "Acme Support",
    "email": "founder@acme.test",
    "password1": "s3cret-Pass-99",
    "password2": "s3cret-Pass-99",
}
LINK = re.compile(r"https?://\S+/auth/confirm-email/\S+")


@pytest.fixture
def console_mail(settings):
    settings.MAILERS = {"default": {"BACKEND": "octopods.mail.ConsoleEmailBackend"}}


def test_the_printed_confirmation_link_is_whole_on_its_line_and_confirms(
    client, console_mail, capsys
):
    client.post("/auth/signup/", FORM)
    printed = capsys.readouterr().out
    assert "Content-Transfer-Encoding: quoted-printable" not in printed
    (link,) = LINK.findall(printed)
    # Copied as printed: the whole line, no soft line break ("=") and no =3D escapes.
    assert not link.endswith("=") and "=3D" not in link
    path = re.sub(r"^https?://[^/]+", "", link)
    assert len(link) > 78  # long enough that the stock console mailer broke it
    response = client.post(path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="founder@acme.test").verified


def test_the_stock_console_backend_breaks_the_same_link(client, settings, capsys):
    """Why octopods.mail exists: Django's console backend prints the body
    quoted-printable, and the link is cut by a soft line break."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    client.post("/auth/signup/", FORM)
    printed = capsys.readouterr().out
    assert "Content-Transfer-Encoding: quoted-printable" in printed
    (first_line,) = LINK.findall(printed)
    assert first_line.endswith("=")
    assert client.post(re.sub(r"^https?://[^/]+", "", first_line)).status_code == 404


def test_non_ascii_text_is_printed_as_written(capsys):
    from django.core.mail import EmailMessage

    link = "http://127.0.0.1:8000/auth/confirm-email/" + "k" * 90 + "/"
    message = EmailMessage("Olá", f"Olá, Zoë!\n\n{link}\n", "a@b.test", ["c@d.test"])
    ConsoleEmailBackend().send_messages([message])
    printed = capsys.readouterr().out
    assert "Olá, Zoë!" in printed
    assert f"\n{link}\n" in printed
