"""``{% url %}`` keeps each link it reversed (octopods/templatetags/kept_urls.py) and
prints what Django's own tag prints."""

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from octopods.templatetags.kept_urls import _reversed


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.fixture(autouse=True)
def empty():
    _reversed.cache_clear()
    yield
    set_script_prefix("/")


def test_a_link_is_reversed_once_and_printed_as_django_prints_it():
    source = "{% url 'channels:detail' pk %}|{% url 'workspaces:index' %}"
    first = render(source, pk=5)
    again = render(source, pk=5)
    assert first == again == f"{reverse('channels:detail', args=[5])}|{reverse('workspaces:index')}"
    assert _reversed.cache_info().misses == 2 and _reversed.cache_info().hits == 2
    assert render(source, pk=6).startswith(reverse("channels:detail", args=[6]))


def test_the_script_prefix_is_part_of_the_link():
    source = "{% url 'workspaces:index' %}"
    assert render(source) == "/"
    set_script_prefix("/octopods/")
    assert render(source) == "/octopods/"


def test_what_it_prints_is_escaped_as_djangos_tag_escapes_it():
    source = "{% url 'integrations:connect' provider %}"
    assert render(source, provider="a&b") == reverse("integrations:connect", args=["a&b"]).replace(
        "&", "&amp;"
    )
    assert render("{% autoescape off %}" + source + "{% endautoescape %}", provider="a&b") == (
        reverse("integrations:connect", args=["a&b"])
    )


def test_other_forms_are_djangos_own():
    assert render("{% url 'channels:detail' pk=7 %}") == reverse("channels:detail", args=[7])
    assert render("{% url 'channels:detail' 8 as link %}[{{ link }}]") == (
        f"[{reverse('channels:detail', args=[8])}]"
    )
    assert render("{% url 'nowhere' as link %}[{{ link }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        render("{% url 'nowhere' %}")
    assert _reversed.cache_info().currsize == 0
