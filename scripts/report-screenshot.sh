#!/usr/bin/env bash
# Make docs/report.png: back-test examples/sma_cross.toml into a throwaway database, write its
# HTML report and photograph it in headless Chromium (Debian's `chromium` package; install it
# with scripts/ensure-system-packages.sh). Usage: scripts/report-screenshot.sh [OUT.png]
# XMARGIN overrides the command that runs the CLI (default: uv run --frozen xmargin).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/report.png}"
read -r -a xmargin <<< "${XMARGIN:-uv run --frozen xmargin}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    echo "report-screenshot: chromium not found; run scripts/ensure-system-packages.sh" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
db="sqlite:///$work/runs.db"

"${xmargin[@]}" backtest examples/sma_cross.toml --db "$db" --json > "$work/summary.json"
run_id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' \
    "$work/summary.json")"
"${xmargin[@]}" report "$run_id" --db "$db" --html "$work/report.html" > /dev/null

mkdir -p "$(dirname "$out")"
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --force-device-scale-factor=1 --user-data-dir="$work/profile" \
    --screenshot="$(realpath -m "$out")" --window-size=1280,2000 \
    "file://$work/report.html" > "$work/chromium.log" 2>&1 \
    || { cat "$work/chromium.log" >&2; exit 1; }
echo "wrote $out (run $run_id)"
