#!/usr/bin/env bash
# TensorFlow for the Keras reference lives in its own venv (never beside torch).
set -euo pipefail
venv=${1:-.keras-venv}
python3 -m venv "$venv"
"$venv/bin/pip" install -q "tensorflow-cpu==2.21.*"
echo "$venv/bin/python"
