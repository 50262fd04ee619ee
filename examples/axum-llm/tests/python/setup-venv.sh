#!/bin/sh
# Creates the Python virtual environment the SDK tests of example-axum-llm
# run in, with the pinned official OpenAI and Anthropic SDKs.
#
#   examples/axum-llm/tests/python/setup-venv.sh <venv directory>
#   export SSE_PYTHON=<venv directory>/bin/python
#
# Needs python3 (3.9 or newer) with its venv module.
set -eu
venv="${1:?usage: setup-venv.sh <venv directory>}"
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --requirement "$here/requirements.txt"
"$venv/bin/python" -c 'import anthropic, openai; print("openai", openai.__version__, "anthropic", anthropic.__version__)'
