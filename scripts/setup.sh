#!/usr/bin/env bash
# Installs what the project needs and is missing, idempotently: the pinned
# cbindgen, valgrind (Debian package), and a Python venv in .venv with
# maturin and pytest. Sourced by scripts/test and scripts/demo.
set -euo pipefail

FSOCK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FSOCK_VENV="$FSOCK_ROOT/.venv"
CBINDGEN_VERSION=0.29.4
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

ensure_cbindgen() {
    if ! cbindgen --version 2>/dev/null | grep -q " $CBINDGEN_VERSION\$"; then
        say "installing cbindgen $CBINDGEN_VERSION (pinned: the committed header depends on it)"
        cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
    fi
}

ensure_valgrind() {
    command -v valgrind >/dev/null && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing valgrind"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
    fi
    command -v valgrind >/dev/null || { echo "valgrind is missing and could not be installed" >&2; return 1; }
}

ensure_venv() {
    if [ ! -x "$FSOCK_VENV/bin/python" ]; then
        say "creating the Python venv in .venv"
        python3 -m venv "$FSOCK_VENV"
    fi
    if ! "$FSOCK_VENV/bin/python" -c "import maturin, pytest" 2>/dev/null; then
        say "installing maturin and pytest into .venv"
        "$FSOCK_VENV/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.9.4,<2" "pytest>=8"
    fi
}

# Builds the Python extension into .venv (release: the face is measured too).
build_python() {
    say "building the Python extension (maturin develop --release)"
    (cd "$FSOCK_ROOT/bindings/python" &&
        VIRTUAL_ENV="$FSOCK_VENV" PATH="$FSOCK_VENV/bin:$PATH" \
            "$FSOCK_VENV/bin/maturin" develop --release --quiet)
}
