#!/usr/bin/env bash
# Headless Chromium for preview-server's browser tests (gateway and dashboard): Debian's chromium and
# chromium-driver (chromedriver), driven by Selenium. Nothing to start: each test launches its own
# headless browser through /usr/bin/chromedriver. Idempotent.
set -euo pipefail

. "$(dirname "$0")/../lib.sh" # apt_install
apt_install chromium chromium-driver

echo "chromium: $(chromium --version 2>/dev/null || echo missing); $(chromedriver --version 2>/dev/null | head -1 || echo chromedriver missing)"
