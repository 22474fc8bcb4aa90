"""Adding a channel kind touches the registry and the kind's own package, nothing else of
the product (README, "Adding a channel kind"): no shared code names a kind.

Every registered kind's name, label and package are looked for in the shared product
code (comments and docstrings aside, which may give a kind as an example). The few
places that name one are WhatsApp's approved templates, a feature only WhatsApp has;
they are listed below, and a new kind has no such entry.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

from integrations.registry import CHANNELS, channel_adapter

ROOT = Path(__file__).resolve().parents[2]
SHARED = ["accounts", "channels", "inboxapp", "integrations", "octopods", "relay", "templates"]
SHARED += ["workspaces"]
REGISTRY = ROOT / "integrations" / "registry.py"

# (file, word): a kind-specific feature in shared code that a new kind does not need.
ALLOWED = {
    # WhatsApp's approved templates (Channel.approved_templates kinds): their model, sync
    # and use in the inbox app, and the channel page's section for them.
    *(
        (path, "whatsapp")
        for path in (
            "channels/models.py",
            "channels/selectors.py",
            "channels/services.py",
            "channels/tasks.py",
            "channels/template_services.py",
            "channels/views.py",
            "inboxapp/flow.py",
            "inboxapp/selectors.py",
            "inboxapp/services.py",
            "octopods/celery.py",
            "octopods/settings/base.py",
            "templates/channels/detail.html",
            "templates/channels/settings.html",
        )
    ),
    # Meta's code shared by its kinds: the names of its API permissions.
    ("integrations/meta.py", "whatsapp"),
    ("integrations/meta.py", "instagram"),
}


# Kinds whose name is also an everyday word of code and prose (a "line" of text): for
# these, what names the kind is its label as the provider writes it ("LINE"), the kind
# as a string ("line") and its package as a module (integrations.line).
ORDINARY_WORDS = {"line"}


def _names(code: str, word: str, kind: str) -> bool:
    if word not in ORDINARY_WORDS:
        return bool(re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", code.lower()))
    label = channel_adapter(kind).label
    patterns = [
        rf"(?<![A-Za-z]){re.escape(label)}(?![A-Za-z])",
        rf"[\"']{re.escape(word)}[\"']",
        rf"(?:integrations\s*\.\s*|from\s+\.+\s*|import\s+){re.escape(word)}(?![A-Za-z_])",
    ]
    return any(re.search(pattern, code) for pattern in patterns)


def _kind_packages() -> set[Path]:
    return {ROOT.joinpath(*kind.adapter.split(".")[:-2]) for kind in CHANNELS.values()}


def _words(kind: str) -> set[str]:
    adapter = channel_adapter(kind)
    package = CHANNELS[kind].adapter.split(".")[-3]
    return {kind.lower(), adapter.label.lower(), package.lower()}


def _docstring_lines(source: str) -> set[int]:
    lines = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(value.lineno, value.end_lineno + 1))
    return lines


def _code(path: Path) -> str:
    """The file's text without comments and docstrings."""
    source = path.read_text()
    if path.suffix == ".html":
        return re.sub(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", "", source, flags=re.S)
    docstrings = _docstring_lines(source)
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT or token.start[0] in docstrings:
            continue
        kept.append(token.string)
    return " ".join(kept)


def _shared_files():
    packages = _kind_packages()
    for top in SHARED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in {".py", ".html"} or "migrations" in path.parts:
                continue
            if path == REGISTRY or any(package in path.parents for package in packages):
                continue
            yield path


def test_no_shared_product_code_names_a_kind():
    named = []
    for path in _shared_files():
        code = _code(path)
        relative = path.relative_to(ROOT).as_posix()
        for kind in CHANNELS:
            for word in _words(kind):
                if (relative, word) in ALLOWED:
                    continue
                if _names(code, word, kind):
                    named.append(f"{relative} names {word!r}")
    assert not named, (
        "Shared product code names a channel kind; derive it from the registry or the "
        "kind's adapter instead (README, 'Adding a channel kind'):\n" + "\n".join(named)
    )


def test_the_registry_entry_is_plain_data():
    # The settings import the registry to define each provider's API setting.
    source = REGISTRY.read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert all("django" not in line for line in imports), imports


def test_an_ordinary_word_names_its_kind_only_as_the_kind():
    # "line" of text is not the LINE kind; its label, its kind string and its package are.
    assert not _names("for line in text.splitlines(): errors.append(f'Line {n}')", "line", "line")
    assert _names('if channel.kind == "line":', "line", "line")
    assert _names("from integrations.line import client", "line", "line")
    assert _names('label = "LINE Official Account"', "line", "line")
