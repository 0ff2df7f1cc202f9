#!/usr/bin/env bash
# Browser check of report.html (not part of `cargo test`, so CI does not
# depend on a browser). Renders the quickstart report, opens it in headless
# Chromium, and checks that the page logs no console error and that every
# plot is present; leaves screenshots (desktop and phone width) for a human
# to look at.
#
#   tests/browser.sh            # writes target/browser-check/*.png
#
# Installs Debian's `chromium` when missing (needs root and network); skips
# with a message, exit status 0, where it cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${BROWSER_CHECK_DIR:-target/browser-check}"
mkdir -p "$out"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    if ! apt-get install -y chromium > "$out/apt.log" 2>&1; then
        { apt-get update && apt-get install -y chromium; } >> "$out/apt.log" 2>&1 || true
    fi
    browser="$(command -v chromium || true)"
fi
if [ -z "$browser" ]; then
    echo "SKIP browser check: chromium is not installed and could not be installed (apt-get install -y chromium needs root and network)"
    exit 0
fi

cargo run --release --quiet -- run scenarios/quickstart.toml --quiet --out "$out/quickstart"
page="file://$PWD/$out/quickstart/report.html"
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars)

"$browser" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "$page" > "$out/dom.html" 2> "$out/console.log"
if grep -E "CONSOLE|Uncaught|ERR_FILE_NOT_FOUND|net::ERR" "$out/console.log" | grep -v "ERROR:.*(gpu|dbus|bus\.cc|sandbox)" > "$out/console-errors.log"; then
    echo "FAIL: console errors or failed loads:"; cat "$out/console-errors.log"; exit 1
fi
svgs=$(grep -o "<svg" "$out/dom.html" | wc -l)
if [ "$svgs" -ne 4 ] || grep -q "<img" "$out/dom.html"; then
    echo "FAIL: expected the 4 inline SVG plots and no external image, found $svgs <svg>"; exit 1
fi

"$browser" "${flags[@]}" --window-size=1280,4200 --screenshot="$PWD/$out/report-desktop.png" "$page" 2> /dev/null
"$browser" "${flags[@]}" --window-size=390,3600 --screenshot="$PWD/$out/report-phone.png" "$page" 2> /dev/null
echo "OK: no console error, 4 inline plots; screenshots in $out/report-desktop.png and $out/report-phone.png"
