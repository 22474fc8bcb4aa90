"""An inbox reply's HTML in each channel's own formatting (``ChannelAdapter.format_html``).

Intercom writes replies as HTML: ``<p>`` per line, ``<br>``, ``<b>``/``<strong>``,
``<i>``/``<em>``, links, lists, ``<code>``/``<pre>`` and entities. One converter reads
that with the standard library's parser and writes it in a ``Style``, which a kind
with formatting of its own defines in its package:

- WhatsApp's ``WHATSAPP``: ``*bold*``, ``_italic_``, ``~strike~``, ```` `code` ````,
  ```` ```pre``` ````, links as "text (url)";
- Telegram's ``TELEGRAM``: its HTML subset (b, i, u, s, code, pre, a href) with every other
  tag dropped and the text escaped, to be sent with ``parse_mode`` HTML;
- ``PLAIN`` (SMS, Messenger): text only, links as "text (url)".

Every style: each paragraph on its own line (an empty paragraph is a blank line, as the
agent typed it), ``<br>`` a line break, lists as "• item" / "1. item" (nested ones
indented), quotes as "> line", blank lines collapsed to one. A body without tags is
taken as plain text whose line breaks count.
"""

import re
from dataclasses import dataclass, field
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

# Control characters the renderer uses as markers; stripped from the input first.
_BREAK = "\x1e"  # a block boundary: start a new line unless already at the start of one
_BLANK = "\x1f"  # an empty paragraph: one blank line
_SPACE = "\x1d"  # a space that is neither collapsed nor trimmed (indents, <pre>)
_MARKERS = re.compile("[\x1d\x1e\x1f]")
_SEPARATORS = re.compile(f"(\n|{_BREAK}|{_BLANK})")
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")
_TAG = re.compile(r"<[A-Za-z!/?]")


@dataclass(frozen=True)
class Style:
    """How one channel writes emphasis and links. A pair of empty strings means the
    channel has no such formatting and the text goes through as is."""

    bold: tuple[str, str] = ("", "")
    italic: tuple[str, str] = ("", "")
    underline: tuple[str, str] = ("", "")
    strike: tuple[str, str] = ("", "")
    code: tuple[str, str] = ("", "")
    pre: tuple[str, str] = ("", "")
    #: Write links as ``<a href>`` (Telegram); otherwise as "text (url)".
    html_links: bool = False
    #: Escape &, < and > in the text (the channel parses the result as HTML).
    escapes_html: bool = False
    #: Link schemes the channel makes clickable in ``<a href>``.
    link_schemes: frozenset[str] = field(default_factory=frozenset)

    def text(self, value: str) -> str:
        return escape(value, quote=False) if self.escapes_html else value


PLAIN = Style()

# Schemes a customer can follow; anything else (javascript:, relative paths) keeps its
# text and loses the address.
_LINK_SCHEMES = {"http", "https", "mailto", "tel", "tg"}


def html_to_text(html: str, style: Style) -> str:
    """``html`` (an inbox reply body, or plain text) written in ``style``."""
    html = _MARKERS.sub("", html or "")
    if not _TAG.search(html):
        return _plain_text(unescape(html), style)
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    rendered = _Renderer(style).children(builder.root, _Context())
    return _finish(_lines(rendered))


def _plain_text(text: str, style: Style) -> str:
    lines = [style.text(line).replace("\xa0", " ").rstrip() for line in text.splitlines()]
    return _finish(lines)


def _finish(lines: list[str]) -> str:
    kept: list[str] = []
    for line in lines:
        line = line.replace(_SPACE, " ").replace("\xa0", " ").rstrip()
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def _lines(rendered: str) -> list[str]:
    """Resolve the renderer's markers into lines (``_SPACE`` still in place)."""
    lines: list[str] = []
    current = ""
    for piece in _SEPARATORS.split(rendered):
        if piece == "\n":
            lines.append(current)
            current = ""
        elif piece in (_BREAK, _BLANK):
            # A block starts on a new line; whitespace left between blocks is nothing,
            # and so is a <br> that ends a block (as in a browser).
            if current.strip(" "):
                lines.append(current)
            current = ""
            if piece == _BLANK:
                lines.append("")
        else:
            current += piece
    if current.strip(" "):
        lines.append(current)
    return [re.sub(" {2,}", " ", line).strip(" ") for line in lines]


# --- parsing ----------------------------------------------------------------------------


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list = field(default_factory=list)


_VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "col", "area", "source", "base"}
# Tags that end an open <p> (as browsers do for unclosed paragraphs).
_ENDS_PARAGRAPH = {
    "p", "div", "ul", "ol", "li", "pre", "blockquote", "table", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip


class _TreeBuilder(HTMLParser):
    """A forgiving tree: unclosed <p> and <li> end where a browser would end them, and
    a stray end tag is ignored."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Element("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        if tag in _ENDS_PARAGRAPH:
            self._close_open("p", within={"li", "td", "th", "blockquote"})
        if tag == "li":
            self._close_open("li", within={"ul", "ol"})
        element = _Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        element = _Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)

    def handle_endtag(self, tag):
        if tag == "br":  # "</br>" is read as a line break by browsers
            self.stack[-1].children.append(_Element("br"))
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)

    def _close_open(self, tag: str, *, within: set[str]) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            name = self.stack[depth].tag
            if name == tag:
                del self.stack[depth:]
                return
            if name in within:
                return


# --- rendering --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    active: frozenset[str] = frozenset()  # emphasis already applied by an ancestor
    pre: bool = False

    def entering(self, name: str, *, pre: bool = False) -> "_Context":
        return _Context(self.active | {name}, self.pre or pre)


_EMPHASIS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "cite": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strike",
    "strike": "strike",
    "del": "strike",
    "code": "code",
    "kbd": "code",
    "samp": "code",
    "tt": "code",
}
_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
    "figure", "figcaption", "address", "center", "dl", "dt", "dd", "details",
    "summary", "form", "fieldset", "table", "thead", "tbody", "tfoot", "caption", "hr",
}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SKIPPED = {"script", "style", "head", "title", "template", "noscript", "iframe", "object"}


class _Renderer:
    """Renders the tree to text with markers; ``_lines`` resolves them."""

    def __init__(self, style: Style):
        self.style = style

    def children(self, element: _Element, context: _Context) -> str:
        return "".join(self.node(child, context) for child in element.children)

    def node(self, node, context: _Context) -> str:
        if isinstance(node, str):
            return self.text(node, context)
        tag = node.tag
        if tag in _SKIPPED:
            return ""
        if tag == "br":
            return "\n"
        if tag == "img":
            return self.image(node, context)
        if tag == "a":
            inner = self.children(node, context.entering("link"))
            return self.link(inner, node.attrs.get("href", ""), context)
        if tag in _EMPHASIS:
            return self.emphasis(node, _EMPHASIS[tag], context)
        if tag == "pre":
            return self.preformatted(node, context)
        if tag in ("ul", "ol"):
            return self.list(node, context)
        if tag == "li":  # an item outside any list
            return self.lonely_item(node, context)
        if tag == "blockquote":
            return self.quote(node, context)
        if tag == "tr":
            return self.row(node, context)
        if tag in _HEADINGS:
            return _BREAK + self.emphasis(node, "bold", context) + _BREAK
        if tag in _BLOCKS:
            inner = self.children(node, context)
            if tag == "p" and _is_blank(inner):
                # Intercom writes the blank line an agent typed as an empty paragraph.
                return _BREAK + _BLANK + _BREAK
            return _BREAK + inner + _BREAK
        return self.children(node, context)  # span, font, td, … : their content only

    def text(self, value: str, context: _Context) -> str:
        if context.pre:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
            return self.style.text(value).replace(" ", _SPACE)
        return self.style.text(_WHITESPACE.sub(" ", value))

    def emphasis(self, element: _Element, name: str, context: _Context) -> str:
        if name in context.active or "code" in context.active:
            return self.children(element, context)
        inner = self.children(element, context.entering(name))
        return self.wrap(inner, name, context)

    def wrap(self, inner: str, name: str, context: _Context) -> str:
        """Put ``inner`` between the style's markers, line by line: WhatsApp's markers
        only work within a line and must touch the text, so spaces go outside them."""
        opening, closing = getattr(self.style, name)
        if not opening or "code" in context.active or context.pre:
            return inner
        pieces = []
        for piece in _SEPARATORS.split(inner):
            core = piece.strip(" ")
            if not core or _SEPARATORS.fullmatch(piece):
                pieces.append(piece)
                continue
            lead = piece[: len(piece) - len(piece.lstrip(" "))]
            trail = piece[len(piece.rstrip(" ")) :]
            pieces.append(f"{lead}{opening}{core}{closing}{trail}")
        return "".join(pieces)

    def preformatted(self, element: _Element, context: _Context) -> str:
        inner = self.children(element, context.entering("pre", pre=True))
        inner = inner.strip("\n")
        if not inner.strip(_SPACE + "\n"):
            return _BREAK
        opening, closing = self.style.pre
        return f"{_BREAK}{opening}{inner}{closing}{_BREAK}"

    def link(self, inner: str, href: str, context: _Context) -> str:
        href = href.strip()
        scheme = urlsplit(href).scheme.lower() if href else ""
        if scheme not in _LINK_SCHEMES:
            return inner
        shown = href.split(":", 1)[1] if scheme in ("mailto", "tel") else href
        if (
            self.style.html_links
            and scheme in self.style.link_schemes
            and "link" not in context.active
            and "code" not in context.active
            and not context.pre
        ):
            text = inner if inner.strip(" ") else self.style.text(shown)
            return f'<a href="{escape(href, quote=True)}">{text}</a>'
        address = self.style.text(shown)
        core = inner.strip(" ")
        if not core or _same_address(unescape(core), href, shown):
            lead = inner[: len(inner) - len(inner.lstrip(" "))]
            return f"{lead}{address}"
        trail = inner[len(inner.rstrip(" ")) :]
        return f"{inner.rstrip(' ')} ({address}){trail}"

    def image(self, element: _Element, context: _Context) -> str:
        # An inline picture becomes a link to it, so the customer can still open it.
        alt = self.text(element.attrs.get("alt", ""), context)
        src = element.attrs.get("src", "")
        if urlsplit(src.strip()).scheme.lower() not in ("http", "https"):
            return alt
        return self.link(alt, src, context)

    def list(self, element: _Element, context: _Context) -> str:
        ordered = element.tag == "ol"
        try:
            number = int(element.attrs.get("start", "1"))
        except ValueError:
            number = 1
        lines: list[str] = []
        for child in element.children:
            if not isinstance(child, _Element):
                continue  # whitespace between items
            if child.tag == "li":
                marker = f"{number}." if ordered else "•"
                number += 1
                lines += _item(marker, _lines(self.children(child, context)))
            elif child.tag in ("ul", "ol"):
                # A list nested straight in a list (not in an item) is indented under it.
                lines += _indented(_SPACE * 2, _lines(self.list(child, context)))
        return _BREAK + "\n".join(lines) + _BREAK

    def lonely_item(self, element: _Element, context: _Context) -> str:
        lines = _item("•", _lines(self.children(element, context)))
        return _BREAK + "\n".join(lines) + _BREAK

    def quote(self, element: _Element, context: _Context) -> str:
        mark = self.style.text(">")
        lines = _lines(self.children(element, context))
        quoted = [f"{mark}{_SPACE}{line}" if line else mark for line in lines]
        return _BREAK + "\n".join(quoted) + _BREAK

    def row(self, element: _Element, context: _Context) -> str:
        cells = [
            " ".join(_lines(self.node(cell, context)))
            for cell in element.children
            if isinstance(cell, _Element) and cell.tag in ("td", "th")
        ]
        return _BREAK + " | ".join(cell for cell in cells if cell) + _BREAK


def _item(marker: str, content: list[str]) -> list[str]:
    """A list item's lines: the marker on the first, the rest aligned under its text."""
    first, *rest = content or [""]
    return [f"{marker}{_SPACE}{first}", *_indented(_SPACE * (len(marker) + 1), rest)]


def _indented(indent: str, lines: list[str]) -> list[str]:
    return [indent + line if line else line for line in lines]


def _is_blank(rendered: str) -> bool:
    return not rendered.strip(" \n" + _BREAK + _BLANK + _SPACE)


def _same_address(text: str, href: str, shown: str) -> bool:
    """Whether a link's text is its address already (then "url (url)" would repeat it)."""
    text = text.strip().rstrip("/").lower()
    candidates = {href, shown, href.split("://", 1)[-1]}
    return text in {candidate.rstrip("/").lower() for candidate in candidates}
