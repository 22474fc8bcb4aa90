"""``{% url %}`` that reverses each distinct link once per process.

A page's layout reverses the same handful of links on every request (the navigation,
the sign-out and account forms, the connect buttons), and Django's ``reverse`` costs
tens of microseconds each. This tag is Django's own (django/template/defaulttags.py,
URLNode) with the result kept by everything it depends on: the view name, its
arguments, the current application namespace and the script prefix. Links with keyword
arguments, ``as var``, or arguments other than str and int are reversed as Django does.
Installed as a template builtin (settings TEMPLATES), so it serves every template.
"""

from functools import lru_cache

from django import template
from django.template import defaulttags
from django.urls import get_script_prefix, reverse
from django.utils.html import conditional_escape

register = template.Library()

LINKS_KEPT = 4096


@lru_cache(maxsize=LINKS_KEPT)
def _reversed(view_name: str, args: tuple, current_app, prefix: str) -> str:
    return reverse(view_name, args=list(args), current_app=current_app)


def _current_app(context):
    # As URLNode.render finds it.
    try:
        return context.request.current_app
    except AttributeError:
        try:
            return context.request.resolver_match.namespace
        except AttributeError:
            return None


def _plain(arg) -> bool:
    # A str (safe or not: equal strings reverse alike) or an int; not a bool, which
    # would share 1's and 0's place in the cache.
    return isinstance(arg, str) or (isinstance(arg, int) and not isinstance(arg, bool))


class KeptURLNode(defaulttags.URLNode):
    def render(self, context):
        if self.asvar or self.kwargs:
            return super().render(context)
        args = tuple(arg.resolve(context) for arg in self.args)
        view_name = self.view_name.resolve(context)
        if not isinstance(view_name, str) or not all(map(_plain, args)):
            return super().render(context)
        url = _reversed(view_name, args, _current_app(context), get_script_prefix())
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
