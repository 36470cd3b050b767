#!/usr/bin/env bash
# Assent's whole test suite, from a fresh clone: installs the test peers it needs, then checks
# formatting, lints, and runs every test (unit, property, store contract, integration, interop).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Python test peers (.venv: PyJWT, cryptography, standardwebhooks, mmdb-writer, pyotp)"
if ! .venv/bin/python -c "import jwt, cryptography, standardwebhooks, mmdb_writer, pyotp" 2>/dev/null; then
  if ! python3 -m venv .venv 2>/dev/null; then
    # Debian splits venv out of the interpreter.
    apt-get update -qq && apt-get install -y -qq python3-venv
    python3 -m venv .venv
  fi
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
fi
export ASSENT_TEST_PYTHON="$PWD/.venv/bin/python"
"$ASSENT_TEST_PYTHON" -c "import jwt; print('PyJWT', jwt.__version__)"

step "Browser test peers (Debian chromium, npm playwright-core)"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
# playwright-core drives the system Chromium; it never downloads a browser.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/e2e --no-audit --no-fund --silent
/usr/bin/chromium --version

step "Formatting"
cargo fmt --all --check

step "Lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Tests"
# Two cores: cargo builds with both; test binaries run their tests in parallel threads.
cargo test --workspace --locked

step "Browser tests (web authenticator and Acme, in Chromium)"
# Uses target/debug/assent, which the tests above built.
node --check web/app/app.js
node --check web/app/sw.js
npm test --prefix tests/e2e

step "All checks passed"
