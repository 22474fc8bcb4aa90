"""The production image and the lock files, checked without Docker (no daemon runs in
CI) and without the network: the Dockerfile's stages, user, health check and hashed
install; what .dockerignore keeps out; requirements/*.txt in step with pyproject.toml;
and the production settings working without the dev-only packages the image leaves out.
"""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEV_ONLY = ("tests", "sandbox", "harness", "bench", "scripts", ".ci")


# --- the Dockerfile ---------------------------------------------------------------------


def dockerfile_stages() -> list[dict]:
    """[{"name", "base", "instructions": [(KEYWORD, arguments)]}], continuation lines
    joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append((pending + line).strip())
        pending = ""
    stages = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arguments.strip(), re.IGNORECASE)
            stages.append({"base": match[1], "name": match[2], "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, arguments.strip()))
    return stages


def instructions(stage: dict, keyword: str) -> list[str]:
    return [arguments for kw, arguments in stage["instructions"] if kw == keyword]


def test_the_image_is_built_in_one_stage_and_run_from_a_slim_one():
    build, runtime = dockerfile_stages()
    assert (build["name"], runtime["name"]) == ("build", "runtime")
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.1[23]-slim$", text, re.MULTILINE)
    assert build["base"] == runtime["base"] == "${PYTHON_IMAGE}"
    # The runtime stage takes the virtualenv and the application from the build stage,
    # never the build context: what .dockerignore lets in passes through the build only.
    copies = instructions(runtime, "COPY")
    assert copies and all(copy.startswith("--from=build ") for copy in copies)
    assert any("/opt/venv" in copy for copy in copies)
    assert not instructions(runtime, "RUN") or all(
        "pip install" not in run for run in instructions(runtime, "RUN")
    )


def test_dependencies_are_installed_from_the_lock_with_hashes_checked():
    build, _ = dockerfile_stages()
    copies = instructions(build, "COPY")
    assert any(copy.split()[0] == "requirements/prod.txt" for copy in copies)
    installs = [run for run in instructions(build, "RUN") if "pip install" in run]
    assert len(installs) == 1
    assert "--require-hashes" in installs[0]
    assert re.search(r"-r\s+\S*requirements\.txt", installs[0])
    assert (
        "pyproject"
        not in (ROOT / "Dockerfile").read_text().split("FROM", 2)[1].split("COPY . .")[0]
    )


def test_the_image_runs_as_an_unprivileged_user():
    _, runtime = dockerfile_stages()
    users = instructions(runtime, "USER")
    assert users, "the runtime stage must switch to a user"
    assert users[-1] not in ("root", "0", "0:0")
    # The user is created in the same stage, and nothing runs as root after USER.
    assert any("useradd" in run and users[-1] in run for run in instructions(runtime, "RUN"))
    after_user = runtime["instructions"][
        max(i for i, (kw, _) in enumerate(runtime["instructions"]) if kw == "USER") :
    ]
    assert not [arguments for kw, arguments in after_user if kw == "RUN"]


def test_the_image_checks_its_health_on_healthz_with_a_short_timeout():
    _, runtime = dockerfile_stages()
    (check,) = instructions(runtime, "HEALTHCHECK")
    timeout = re.search(r"--timeout=(\d+)s", check)
    assert timeout and int(timeout[1]) <= 10
    assert "CMD" in check and "python" in check
    assert "'/healthz'" in check and "8000" in check
    assert re.search(r"timeout=\d", check)  # the request's own timeout, inside the check
    # The one-liner is valid Python.
    code = re.search(r'"-c", "(.*)"\]$', check)[1]
    compile(code, "HEALTHCHECK", "exec")


# --- .dockerignore ----------------------------------------------------------------------


def docker_pattern(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as Docker reads it: anchored at the context's root, ``*``
    and ``?`` within one path segment, ``**`` across any number of segments."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex)


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern that matches a folder
    matches everything in it; ``!`` takes a path back in."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        compiled = docker_pattern(pattern.lstrip("!").strip("/"))
        if any(compiled.fullmatch(prefix) for prefix in prefixes):
            result = not negate
    return result


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        *(f"{folder}/some/file.py" for folder in DEV_ONLY),
        "tests/conftest.py",
        "sandbox/urls.py",
        "scripts/lock",
        ".ci/run",
        ".git/HEAD",
        ".venv/bin/python",
        ".env",
        "requirements/dev.txt",
        "channels/__pycache__/views.cpython-313.pyc",
        "media/1/2/photo.jpg",
        "relay/__pycache__/media.cpython-313.pyc",
        "octopods.egg-info/PKG-INFO",
    ],
)
def test_dev_only_and_local_files_stay_out_of_the_image(path):
    assert ignored(path, dockerignore())


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "octopods/settings/prod.py",
        "octopods/wsgi.py",
        "relay/content.py",
        "channels/views.py",
        "integrations/base.py",
        "templates/base.html",
        "static/css/app.css",
        "requirements/prod.txt",
    ],
)
def test_what_production_runs_goes_into_the_image(path):
    assert not ignored(path, dockerignore())


def test_every_top_level_package_is_either_shipped_or_dev_only():
    """A new app folder must be decided on: shipped (not in .dockerignore) or dev-only."""
    packages = sorted(
        entry.name
        for entry in ROOT.iterdir()
        if entry.is_dir() and (entry / "__init__.py").exists()
    )
    shipped = [name for name in packages if not ignored(f"{name}/__init__.py", dockerignore())]
    assert set(packages) - set(shipped) == {"tests", "sandbox", "harness", "bench"}


def test_production_settings_and_urls_need_none_of_the_dev_only_packages(tmp_path):
    """The image has no sandbox/, harness/, bench/ or tests/: Django starts, checks and
    resolves every URL under the production settings with those made unimportable."""
    script = tmp_path / "prod_without_dev.py"
    script.write_text(
        "import importlib.abc, sys\n"
        "class Blocked(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sandbox', 'harness', 'bench', 'tests'):\n"
        "            raise ImportError(f'{name} is not in the production image')\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "import django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.management import call_command\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "call_command('check')\n"
        "dev = [a for a in settings.INSTALLED_APPS if a.split('.')[0] in ('sandbox', 'harness')]\n"
        "print('dev-only apps:', *dev)\n"
    )
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "MEDIA_S3_", "SANDBOX"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="octopods.settings.prod",
        ENV_FILE=os.devnull,
        SECRET_KEY="image-check-secret-key-not-used-anywhere-else-0123456789abcdef",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
        EMAIL_URL="smtp://127.0.0.1:1",
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "dev-only apps:"


# --- the lock files ---------------------------------------------------------------------


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def locked(name: str) -> dict[str, dict]:
    """{canonical name: {"version", "hashes", "direct"}} from requirements/<name>."""
    text = (ROOT / "requirements" / name).read_text()
    pins: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if match := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)", line):
            current = pins[canonicalize_name(match[1])] = {
                "version": match[3],
                "hashes": 0,
                "direct": False,
            }
        elif current is not None and "--hash=sha256:" in line:
            current["hashes"] += 1
        elif current is not None and re.search(r"(via|#)\s+octopods \(pyproject\.toml\)", line):
            current["direct"] = True
    return pins


LOCKS = {
    "prod.txt": lambda project: project["dependencies"],
    "dev.txt": lambda project: [
        *project["dependencies"],
        *project["optional-dependencies"]["dev"],
    ],
}


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_dependency_in_pyproject_is_pinned_in_the_lock(lock):
    pins = locked(lock)
    wanted = [Requirement(line) for line in LOCKS[lock](pyproject()["project"])]
    out_of_step = []
    for requirement in wanted:
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            out_of_step.append(f"{requirement.name} is not in requirements/{lock}")
        elif not requirement.specifier.contains(pin["version"], prereleases=True):
            out_of_step.append(f"{requirement.name}=={pin['version']} is not {requirement}")
    assert not out_of_step, "run scripts/lock: " + "; ".join(out_of_step)


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_the_lock_holds_nothing_pyproject_dropped_and_hashes_everything(lock):
    pins = locked(lock)
    wanted = {
        canonicalize_name(Requirement(line).name) for line in LOCKS[lock](pyproject()["project"])
    }
    direct = {name for name, pin in pins.items() if pin["direct"]}
    assert direct == wanted, "run scripts/lock"
    assert all(pin["hashes"] for pin in pins.values())
    # The development lock is the production one plus the dev extras' packages.
    if lock == "dev.txt":
        prod = locked("prod.txt")
        assert {name: pin["version"] for name, pin in prod.items()} == {
            name: pins[name]["version"] for name in prod
        }


def test_the_locks_say_how_to_regenerate_them():
    for lock in LOCKS:
        assert "scripts/lock" in (ROOT / "requirements" / lock).read_text().split("\n", 3)[1]
