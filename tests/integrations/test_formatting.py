import pytest

from integrations.formatting import PLAIN, html_to_text
from integrations.registry import channel_adapter
from integrations.telegram.adapter import TELEGRAM
from integrations.whatsapp.adapter import WHATSAPP

# (Intercom reply HTML, WhatsApp, Telegram, plain text for SMS and Messenger)
CASES = [
    # paragraphs and line breaks
    ("<p>Hi Jane,</p><p>Thanks!</p>", "Hi Jane,\nThanks!", None, "Hi Jane,\nThanks!"),
    ("<p>Hi</p><p></p><p>Bye</p>", "Hi\n\nBye", "Hi\n\nBye", "Hi\n\nBye"),
    ("<p>Hi</p><p><br></p><p>Bye</p>", "Hi\n\nBye", "Hi\n\nBye", "Hi\n\nBye"),
    ("<p>a</p><p></p><p></p><p></p><p>b</p>", "a\n\nb", "a\n\nb", "a\n\nb"),
    ("<p>one<br>two</p>", "one\ntwo", "one\ntwo", "one\ntwo"),
    ("<p>one<br><br><br>two</p>", "one\n\ntwo", "one\n\ntwo", "one\n\ntwo"),
    ("<p>ends with a break<br></p><p>next</p>", "ends with a break\nnext", None, None),
    ("<p></p><p>  padded  </p><p></p>", "padded", "padded", "padded"),
    ("<p>source\n   line breaks\tare spaces</p>", "source line breaks are spaces", None, None),
    ("<div><p>nested</p></div><div>blocks</div>", "nested\nblocks", None, None),
    ("<p>unclosed<p>paragraphs", "unclosed\nparagraphs", None, None),
    ("<h2>Title</h2><p>Body</p>", "*Title*\nBody", "<b>Title</b>\nBody", "Title\nBody"),
    # emphasis
    ("<p><b>bold</b> and <strong>strong</strong></p>", "*bold* and *strong*",
     "<b>bold</b> and <b>strong</b>", "bold and strong"),
    ("<p><i>it</i> <em>em</em></p>", "_it_ _em_", "<i>it</i> <i>em</i>", "it em"),
    ("<p><s>old</s> <del>gone</del> <strike>out</strike></p>", "~old~ ~gone~ ~out~",
     "<s>old</s> <s>gone</s> <s>out</s>", "old gone out"),
    ("<p><u>under</u></p>", "under", "<u>under</u>", "under"),
    ("<p><b><i>both</i></b></p>", "*_both_*", "<b><i>both</i></b>", "both"),
    ("<p><b>outer <b>inner</b> outer</b></p>", "*outer inner outer*",
     "<b>outer inner outer</b>", None),
    ("<p>x<b> spaced </b>y</p>", "x *spaced* y", "x <b>spaced</b> y", "x spaced y"),
    ("<p><b></b>empty</p>", "empty", "empty", "empty"),
    ("<p><b>two<br>lines</b></p>", "*two*\n*lines*", "<b>two</b>\n<b>lines</b>", "two\nlines"),
    ("<p><span style='color:red'>span</span> <font>font</font></p>", "span font",
     "span font", "span font"),
    # code
    ("<p>Run <code>make test</code></p>", "Run `make test`", "Run <code>make test</code>",
     "Run make test"),
    ("<p><code>a *b* <b>c</b></code></p>", "`a *b* c`", "<code>a *b* c</code>", "a *b* c"),
    ("<pre>def f():\n    return 1 &lt; 2</pre>", "```def f():\n    return 1 < 2```",
     "<pre>def f():\n    return 1 &lt; 2</pre>", "def f():\n    return 1 < 2"),
    ("<p>before</p><pre><code>x  =  1</code></pre><p>after</p>", "before\n```x  =  1```\nafter",
     "before\n<pre>x  =  1</pre>\nafter", "before\nx  =  1\nafter"),
    # entities and escaping
    ("<p>Tom &amp; Jerry &lt;3</p>", "Tom & Jerry <3", "Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
    ("<p>a&nbsp;b &quot;q&quot; &#8364;5 &euro;</p>", 'a b "q" €5 €', 'a b "q" €5 €',
     'a b "q" €5 €'),
    ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", "<script>alert(1)</script>",
     "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
    ("<p>1 < 2 > 0</p>", "1 < 2 > 0", "1 &lt; 2 &gt; 0", "1 < 2 > 0"),
    # links
    ('<p>See <a href="https://acme.example/help">our help</a>.</p>',
     "See our help (https://acme.example/help).",
     'See <a href="https://acme.example/help">our help</a>.',
     "See our help (https://acme.example/help)."),
    ('<p><a href="https://acme.example">https://acme.example</a></p>', "https://acme.example",
     '<a href="https://acme.example">https://acme.example</a>', "https://acme.example"),
    ('<p><a href="https://acme.example/">acme.example</a></p>', "https://acme.example/", None,
     "https://acme.example/"),
    ('<p><a href="https://acme.example/?a=1&amp;b=2">q</a></p>', "q (https://acme.example/?a=1&b=2)",
     '<a href="https://acme.example/?a=1&amp;b=2">q</a>', "q (https://acme.example/?a=1&b=2)"),
    ('<p><a href=\'https://x.example/"onclick\'>x</a></p>', None,
     '<a href="https://x.example/&quot;onclick">x</a>', None),
    ('<p><a href="https://acme.example"><b>bold link</b></a></p>',
     "*bold link* (https://acme.example)", '<a href="https://acme.example"><b>bold link</b></a>',
     "bold link (https://acme.example)"),
    ('<p>Mail <a href="mailto:help@acme.example">us</a></p>', "Mail us (help@acme.example)",
     "Mail us (help@acme.example)", "Mail us (help@acme.example)"),
    ('<p><a href="mailto:help@acme.example">help@acme.example</a></p>', "help@acme.example",
     "help@acme.example", "help@acme.example"),
    ('<p><a href="javascript:alert(1)">click</a> <a href="/relative">rel</a></p>',
     "click rel", "click rel", "click rel"),
    ('<p><a href="https://acme.example"></a></p>', "https://acme.example",
     '<a href="https://acme.example">https://acme.example</a>', "https://acme.example"),
    ("<p><code><a href='https://acme.example'>x</a></code></p>", "`x (https://acme.example)`",
     "<code>x (https://acme.example)</code>", "x (https://acme.example)"),
    ('<div class="intercom-container"><img src="https://cdn.example/a.png" alt="map"></div>',
     "map (https://cdn.example/a.png)", '<a href="https://cdn.example/a.png">map</a>',
     "map (https://cdn.example/a.png)"),
    ("<p><img src='data:image/png;base64,AAAA' alt='inline'></p>", "inline", "inline", "inline"),
    # lists
    ("<ul><li>one</li><li>two</li></ul>", "• one\n• two", "• one\n• two", "• one\n• two"),
    ("<ol><li>one</li><li>two</li></ol>", "1. one\n2. two", "1. one\n2. two", "1. one\n2. two"),
    ('<ol start="9"><li>nine</li><li>ten</li></ol>', "9. nine\n10. ten", None, None),
    ("<ul><li><p>para in item</p></li></ul>", "• para in item", None, None),
    ("<ul><li>a<ul><li>b<ol><li>c</li></ol></li></ul></li><li>d</li></ul>",
     "• a\n  • b\n    1. c\n• d", None, "• a\n  • b\n    1. c\n• d"),
    ("<ol><li><p>first</p><p>more</p></li><li>second</li></ol>", "1. first\n   more\n2. second",
     None, None),
    ("<ul><li><b>bold</b> item</li></ul>", "• *bold* item", "• <b>bold</b> item", "• bold item"),
    ("<p>Steps:</p><ol><li>a</li></ol><p>Done</p>", "Steps:\n1. a\nDone", None, None),
    ("<ul>\n  <li>spaced</li>\n  <li>source</li>\n</ul>", "• spaced\n• source", None, None),
    ("<ul><li>unclosed<li>items</ul>", "• unclosed\n• items", None, None),
    # quotes, tables, dropped content
    ("<blockquote>said<br>this</blockquote><p>reply</p>", "> said\n> this\nreply",
     "&gt; said\n&gt; this\nreply", "> said\n> this\nreply"),
    ("<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$9</td></tr></table>",
     "Plan | Price\nPro | $9", None, None),
    ("<style>p{color:red}</style><script>x()</script><p>only this</p>", "only this",
     "only this", "only this"),
    ("<p>stray</b> end</i> tags</p>", "stray end tags", None, None),
    # plain text (no tags): its line breaks count
    ("Hello\nthere", "Hello\nthere", "Hello\nthere", "Hello\nthere"),
    ("Tom & Jerry < 3\n\n\n\nBye  ", "Tom & Jerry < 3\n\nBye", "Tom &amp; Jerry &lt; 3\n\nBye",
     "Tom & Jerry < 3\n\nBye"),
    ("AT&amp;T", "AT&T", "AT&amp;T", "AT&T"),
    ("", "", "", ""),
    ("<p></p>", "", "", ""),
]  # fmt: skip


def _cases(column: int):
    return [
        pytest.param(case[0], case[column], id=case[0][:60])
        for case in CASES
        if case[column] is not None
    ]


@pytest.mark.parametrize(("html", "expected"), _cases(1))
def test_it_writes_whatsapp_formatting(html, expected):
    assert html_to_text(html, WHATSAPP) == expected


@pytest.mark.parametrize(("html", "expected"), _cases(2))
def test_it_writes_telegram_html(html, expected):
    assert html_to_text(html, TELEGRAM) == expected


@pytest.mark.parametrize(("html", "expected"), _cases(3))
def test_it_writes_plain_text(html, expected):
    assert html_to_text(html, PLAIN) == expected


def test_it_ignores_the_control_characters_it_uses_as_markers():
    assert html_to_text("<p>a\x1eb\x1fc\x1dd</p>", PLAIN) == "abcd"


def test_it_keeps_telegram_markup_balanced_however_the_html_is_nested():
    html = "<p><b>bold <i>both</b> italic?</i> <a href='https://x.example'><u>u</a></u></p>"

    text = html_to_text(html, TELEGRAM)

    assert text == '<b>bold <i>both</i></b> italic? <a href="https://x.example"><u>u</u></a>'


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("whatsapp", "*Hi* _there_ (https://acme.example)"),
        ("telegram", '<b>Hi</b> <a href="https://acme.example"><i>there</i></a>'),
        ("sms", "Hi there (https://acme.example)"),
        ("messenger", "Hi there (https://acme.example)"),
    ],
)
def test_it_formats_for_each_channel_kind(kind, expected):
    html = '<p><b>Hi</b> <a href="https://acme.example"><i>there</i></a></p>'

    assert channel_adapter(kind).format_html(html) == expected
