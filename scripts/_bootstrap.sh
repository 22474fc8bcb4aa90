# shellcheck shell=bash
# Shared by scripts/run and scripts/test (sourced, not executed).
#
# Leaves the shell in the repository root with a working .venv on Python 3.12+ that
# has the locked dev dependencies (requirements/dev.txt, hashes checked) and the
# project installed. Safe to run again: it only recreates the venv when it is missing
# or on the wrong Python, and only reinstalls when the lock or pyproject.toml changed
# since the last install.

OCTOPODS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$OCTOPODS_ROOT" || exit 1

VENV="$OCTOPODS_ROOT/.venv"
VENV_PY="$VENV/bin/python"
INSTALL_STAMP="$VENV/.octopods-requirements.sha256"
LOCK_FILE="$OCTOPODS_ROOT/requirements/dev.txt"
PY_CHECK='import sys, venv, ensurepip; assert sys.version_info >= (3, 12)'

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A slow step: its name now, how long it took once step_done is called.
step() {
    say "$*"
    _step_started=$SECONDS
}
step_done() { say "    done in $((SECONDS - _step_started)) s"; }

# Runs "$@" with a line every 15 s, so a long quiet step never looks stuck. The beat
# stops with the command, or with this shell if it is interrupted.
with_heartbeat() {
    local parent=$$ status=0 beat
    (
        elapsed=0
        while sleep 15 && kill -0 "$parent" 2>/dev/null; do
            elapsed=$((elapsed + 15))
            say "    still working (${elapsed} s)"
        done
    ) &
    beat=$!
    "$@" || status=$?
    kill "$beat" 2>/dev/null || true
    wait "$beat" 2>/dev/null || true
    return "$status"
}

# True when "$1" runs and is Python 3.12 or newer with venv/ensurepip available.
# Candidates are probed by running them: a pyenv shim is on PATH even when it
# cannot run ("pyenv: python3.13: command not found" unless PYENV_VERSION is set).
python_ok() {
    "$1" -c "$PY_CHECK" >/dev/null 2>&1
}

find_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        python_ok "$PYTHON" && { printf '%s\n' "$PYTHON"; return 0; }
        return 1
    fi
    local candidates=(python3.13 python3.12 python3)
    local pyenv_root="${PYENV_ROOT:-${HOME:-/root}/.pyenv}" p i
    # pyenv-installed interpreters, newest first, for when the shims cannot run.
    local found=()
    shopt -s nullglob
    found=("$pyenv_root"/versions/3.1[2-9]*/bin/python3.1[2-9])
    shopt -u nullglob
    for ((i = ${#found[@]} - 1; i >= 0; i--)); do candidates+=("${found[i]}"); done
    for p in "${candidates[@]}"; do
        if python_ok "$p"; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    return 1
}

no_python_help() {
    if [[ -n "${PYTHON:-}" ]]; then
        die "PYTHON=$PYTHON is not a working Python 3.12+ with the venv module."
    fi
    local have
    have="$(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)"
    {
        echo "error: Octopods needs Python 3.12 or newer (Django 6.1 does not run on older Pythons)."
        if [[ -n "$have" ]]; then
            echo "       python3 here is $have. Do not use it: pip would quietly install Django 5.2."
        fi
        echo "       Tried: python3.13, python3.12, python3 and ${PYENV_ROOT:-${HOME:-/root}/.pyenv}/versions/3.1[2-9]*."
        echo "       Install Python 3.13 (or 3.12) with its venv module, for example:"
        echo "         pyenv install 3.13            (then re-run; no need to activate it)"
        echo "         apt-get install python3.13 python3.13-venv   (where your distribution has it)"
        echo "       or point at one explicitly: PYTHON=/path/to/python3.13 $0"
    } >&2
    exit 1
}

ensure_venv() {
    if [[ -x "$VENV_PY" ]] && python_ok "$VENV_PY"; then
        return 0
    fi
    local py
    py="$(find_python)" || no_python_help
    if [[ -e "$VENV" ]]; then
        step "Existing .venv is missing, broken or on Python < 3.12; recreating it with $py"
        rm -rf "$VENV"
    else
        step "Creating .venv with $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"
    fi
    "$py" -m venv "$VENV"
    step_done
}

requirements_hash() {
    # The lock pins every version; pyproject.toml says how the project itself installs.
    "$VENV_PY" -c 'import hashlib, sys
digest = hashlib.sha256()
for name in sys.argv[1:]:
    digest.update(open(name, "rb").read())
print(digest.hexdigest())' "$LOCK_FILE" "$OCTOPODS_ROOT/pyproject.toml"
}

ensure_installed() {
    local want have=""
    [[ -f "$LOCK_FILE" ]] || die "$LOCK_FILE is missing: run scripts/lock to create it."
    want="$(requirements_hash)"
    [[ -f "$INSTALL_STAMP" ]] && have="$(cat "$INSTALL_STAMP")"
    if [[ "$want" == "$have" ]]; then
        return 0
    fi
    step "Installing the locked dependencies and Octopods into .venv (the lock changed or first run; the first time takes a few minutes)"
    rm -f "$INSTALL_STAMP"
    # Exactly the versions in the lock, each file checked against its hash; then the
    # project itself, editable, with nothing else pulled in.
    PIP_DISABLE_PIP_VERSION_CHECK=1 with_heartbeat "$VENV_PY" -m pip install --quiet \
        --require-hashes -r "$LOCK_FILE" \
        || die "pip install -r requirements/dev.txt failed (see above)."
    PIP_DISABLE_PIP_VERSION_CHECK=1 with_heartbeat "$VENV_PY" -m pip install --quiet \
        --no-deps -e . \
        || die "pip install --no-deps -e . failed (see above)."
    printf '%s\n' "$want" >"$INSTALL_STAMP"
    step_done
}

ensure_venv
ensure_installed
