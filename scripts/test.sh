#!/usr/bin/env bash
# Assent's whole test suite, from a fresh clone: installs the test peers it needs, then checks
# formatting, lints, and runs every test (unit, property, store contract, integration, interop).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Python test peers (.venv: PyJWT, cryptography, standardwebhooks, mmdb-writer, pyotp, http-ece, h2, hypercorn, trustme, aiosmtpd, schemathesis, mcp, duo_client, fido2)"
if ! .venv/bin/python -c "import jwt, cryptography, standardwebhooks, mmdb_writer, pyotp, http_ece, h2, hypercorn, trustme, aiosmtpd, schemathesis, mcp, duo_client, fido2" 2>/dev/null; then
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

step "Duo peers (Debian login-duo: duo_unix's login_duo, unmodified)"
if [ ! -x /usr/sbin/login_duo ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq login-duo >/dev/null
fi
/usr/sbin/login_duo -v 2>&1 | head -1 || true

step "Metrics peer (Debian prometheus: the server and promtool)"
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
/usr/bin/prometheus --version 2>&1 | head -1

step "Syslog peer (Debian rsyslog)"
if [ ! -x /usr/sbin/rsyslogd ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsyslog >/dev/null
fi
/usr/sbin/rsyslogd -v 2>&1 | head -1

step "Formatting"
cargo fmt --all --check

step "Lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "PostgreSQL for the PostgreSQL store tests"
# Those tests need a server and fail without one. In order: ASSENT_TEST_DATABASE_URL as given;
# a server on 127.0.0.1:5432 that lets the postgres (or root) role in without a password; else
# a throwaway server started here in a temporary folder, stopped and deleted on exit.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

pg_accepts() {  # URL: does a server answer there and let us in?
  local bin; bin="$(pg_bin)"
  if command -v psql >/dev/null; then
    PGCONNECT_TIMEOUT=5 psql -w "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
  elif [ -n "$bin" ]; then
    PGCONNECT_TIMEOUT=5 "$bin/psql" -w "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
  else
    return 1
  fi
}

start_private_postgres() {
  if [ -z "$(pg_bin)" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local bin port as=()
  bin="$(pg_bin)"
  PG_TMP="$(mktemp -d)"
  # initdb refuses to run as root: the server runs as the postgres user the package created.
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_TMP"
    as=(runuser -u postgres --)
  fi
  port=55432
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres -A trust >/dev/null
  PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -m fast stop)
  trap 'if [ -n "${PG_TMP:-}" ]; then "${PG_STOP[@]}" >/dev/null 2>&1 || true; rm -rf "$PG_TMP"; fi' EXIT
  "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1" start >/dev/null
  ASSENT_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

if [ -z "${ASSENT_TEST_DATABASE_URL:-}" ]; then
  for role in postgres root; do
    if pg_accepts "postgres://$role@127.0.0.1:5432/postgres"; then
      ASSENT_TEST_DATABASE_URL="postgres://$role@127.0.0.1:5432/postgres"
      break
    fi
  done
fi
if [ -z "${ASSENT_TEST_DATABASE_URL:-}" ]; then
  start_private_postgres
fi
export ASSENT_TEST_DATABASE_URL
shown="$(printf '%s' "$ASSENT_TEST_DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#')"
if ! pg_accepts "$ASSENT_TEST_DATABASE_URL"; then
  echo "no PostgreSQL lets us in at $shown" >&2
  exit 1
fi
echo "PostgreSQL ready at $shown"

step "Tests"
# Two cores: cargo builds with both; test binaries run their tests in parallel threads.
cargo test --workspace --locked

step "Fuzzing (every target for a fixed time, from fuzz/corpus)"
# cargo-fuzz builds with nightly-only flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take
# them. No sanitizer here (`-s none`): Assent's code forbids `unsafe`, and AddressSanitizer
# would double the build (SQLite's C among it) for the C libraries alone; run with the default
# sanitizer by hand for longer campaigns (docs/testing.md). New inputs go to a scratch folder,
# so the checked-in corpus only seeds. A crash, a panic or an input slower than 20 s fails the
# script; the input is kept in fuzz/artifacts/TARGET/.
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
fuzz_seconds="${ASSENT_FUZZ_SECONDS:-5}"
(
  cd fuzz
  export RUSTC_BOOTSTRAP=1
  cargo fuzz build -s none
  rm -rf target/scratch-corpus
  for target in $(cargo fuzz list); do
    mkdir -p "target/scratch-corpus/$target" "corpus/$target"
    log="target/scratch-corpus/$target.log"
    if ! cargo fuzz run -s none "$target" "target/scratch-corpus/$target" "corpus/$target" -- \
      -max_total_time="$fuzz_seconds" -timeout=20 -print_final_stats=1 >"$log" 2>&1; then
      tail -n 80 "$log" >&2
      echo "fuzz target $target failed; reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $target artifacts/$target/<file>" >&2
      exit 1
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    echo "$target: ${runs:-?} inputs in ${fuzz_seconds} s, no failure"
  done
)

step "Browser tests (web authenticator and Acme, in Chromium)"
# Uses target/debug/assent, which the tests above built.
# `node --check file.js` reports nothing wrong with a broken file that has `import` statements
# (Node 20's module detection), so each module is checked as a module from standard input.
# sw.js is a classic script.
for module in web/app/app.js web/app/js/*.js web/app/js/views/*.js; do
  node --input-type=module --check <"$module" || { echo "syntax error in $module" >&2; exit 1; }
done
node --check web/app/sw.js
# The crypto module against the protocol's test vectors, and every module served and cached.
node --test tests/web/
npm test --prefix tests/e2e

step "All checks passed"
