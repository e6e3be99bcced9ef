#!/usr/bin/env bash
# Install the system packages the test suite needs, only when they are missing:
#   - PostgreSQL server binaries (initdb, pg_ctl) for the storage tests' throwaway cluster;
#   - Chromium (headless) and a font for the HTML report's browser test and screenshot.
# Idempotent: with everything present it only checks and exits 0. Works as root or through
# sudo; without either it prints what to install and exits 0 (the tests then explain, and
# fail under CI=true).
set -euo pipefail

have_postgres() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null 2>&1
}

have_chromium() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

have_fonts() {
    compgen -G "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" >/dev/null 2>&1 \
        || compgen -G "/usr/share/fonts/truetype/liberation*/*.ttf" >/dev/null 2>&1
}

missing=()
have_postgres || missing+=(postgresql)
have_chromium || missing+=(chromium)
have_fonts || missing+=(fonts-dejavu-core)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "ensure-system-packages: missing ${missing[*]}; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-system-packages: missing ${missing[*]} and no apt-get here; install them" \
        "with your package manager" >&2
    exit 0
fi

echo "ensure-system-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
