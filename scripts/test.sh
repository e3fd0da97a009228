#!/usr/bin/env bash
# The one command that runs every test: unit, integration (a real SMTP server on
# 127.0.0.1, tests/smtp_server.py), Gmail stand-in, UI, doc tests, and the benches once
# in test mode. Installs the Python SMTP server library (aiosmtpd) if it is missing.
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh --test smtp_send   # extra arguments go to `cargo test`
set -euo pipefail

cd "$(dirname "$0")/.."

ensure_aiosmtpd() {
    if python3 -c 'import aiosmtpd' 2>/dev/null; then
        return 0
    fi
    echo "test.sh: installing aiosmtpd (needed by tests/smtp_server.py)" >&2
    # A distribution's Python may refuse pip outside a venv (PEP 668); try the plain
    # install, then the override, then a user install, then the distribution package.
    python3 -m pip install --quiet aiosmtpd 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages aiosmtpd 2>/dev/null \
        || python3 -m pip install --quiet --user aiosmtpd 2>/dev/null \
        || { command -v apt-get >/dev/null \
             && { apt-get update -qq && apt-get install -y -qq python3-aiosmtpd; } >/dev/null; } \
        || true
    if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
        echo "test.sh: cannot import aiosmtpd; install it with: python3 -m pip install aiosmtpd" >&2
        exit 1
    fi
}

# Django, for the relay test that uses Django's SMTP backend (tests/relay.rs).
ensure_django() {
    python3 -c 'import django' 2>/dev/null && return 0
    echo "test.sh: installing django (needed by tests/relay.rs)" >&2
    python3 -m pip install --quiet django 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages django 2>/dev/null \
        || python3 -m pip install --quiet --user django 2>/dev/null \
        || echo "test.sh: could not install django; the Django relay test will fail" >&2
}

if ! command -v python3 >/dev/null; then
    echo "test.sh: python3 is needed for the SMTP test server (tests/smtp_server.py)" >&2
    exit 1
fi
ensure_aiosmtpd
ensure_django

if [ "$#" -gt 0 ]; then
    exec cargo test "$@"
fi

# --all-targets: lib, bin, integration tests, examples, and benches run once as tests.
# It leaves out doc tests, hence the second command.
# Both run even if the first fails, so one report shows every failure.
status=0
cargo test --all-targets --no-fail-fast || status=$?
cargo test --doc --no-fail-fast || status=$?
exit "$status"
