#!/usr/bin/env bash
# Entry point of the kinesd image.
#   kinesd-entrypoint [--flag value ...]   runs kinesd (as PID 1's replacement: exec), configured
#                                          by KINESD_* environment variables and the flags given
#   kinesd-entrypoint healthcheck          exit 0 when GET /_kinesd/ready answers 200 (HEALTHCHECK)
#   kinesd-entrypoint <command> [args]     runs that command instead (e.g. sh)
# Needs only bash: the health check speaks HTTP over bash's /dev/tcp, so the image carries no curl.
set -euo pipefail

healthcheck() {
    local host=${KINESD_HOST:-0.0.0.0} port=${KINESD_PORT:-4567} status
    # A wildcard listener is reached on loopback.
    if [[ $host == 0.0.0.0 || $host == "::" || $host == "[::]" ]]; then host=127.0.0.1; fi
    { exec 3<>"/dev/tcp/${host}/${port}"; } 2>/dev/null || return 1
    printf 'GET /_kinesd/ready HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
    IFS= read -r -t 5 status <&3 || return 1
    exec 3<&-
    [[ $status == "HTTP/1.1 200"* ]]
}

if [[ $# -eq 0 || ${1:0:1} == "-" ]]; then
    exec kinesd "$@"
fi
if [[ $1 == healthcheck ]]; then
    healthcheck
    exit $?
fi
exec "$@"
