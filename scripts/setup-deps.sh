#!/usr/bin/env bash
# Installs, with apt-get, whatever kinesd needs to build and test that is not there yet.
# Usage: scripts/setup-deps.sh [build|test|sanitizers]   (test adds the end-to-end clients;
#   sanitizers adds to test the ASan, LSan, UBSan and TSan runtimes, which g++ brings on Debian 12)
set -euo pipefail
mode=${1:-build}
need=(g++ cmake make pkg-config libboost1.81-dev nlohmann-json3-dev libspdlog-dev libssl-dev libsimdjson-dev libnghttp2-dev)
if [[ $mode == test || $mode == sanitizers ]]; then
    need+=(libgtest-dev python3 awscli)
fi
if [[ $mode == sanitizers ]]; then
    need+=(libasan8 liblsan0 libubsan1 libtsan2)
    mode=test
fi
missing=()
for pkg in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup-deps: installing ${missing[*]}" >&2
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup-deps: missing packages and not root; run as root or install: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [[ $mode == test ]]; then
    # boto3 for the end-to-end tests: the preinstalled one if there is one, else Debian's.
    if ! python3 -c 'import boto3' 2>/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends python3-boto3
    fi
fi
if [[ $mode == test ]] && ! command -v npm >/dev/null; then
    # node and npm for the AWS SDK for JavaScript tests (tests/e2e/js; they npm ci on first run).
    if [[ $(id -u) -eq 0 ]]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends nodejs npm
    else
        echo "setup-deps: npm missing and not root: the JavaScript SDK tests will be skipped" >&2
    fi
fi
