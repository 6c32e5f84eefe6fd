#!/usr/bin/env bash
# Debian packages the test suite uses: faketime (token parity with `aws eks get-token` at a frozen clock)
# and chromium (the HTML report is opened headless). Tools already on the machine image (moto_server,
# cfn-lint, aws, kubectl) are checked, not installed.
set -euo pipefail
need=()
command -v faketime >/dev/null || need+=(faketime)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in moto_server cfn-lint aws kubectl faketime chromium; do
  command -v "$tool" >/dev/null || { echo "missing test tool: $tool" >&2; exit 1; }
done
