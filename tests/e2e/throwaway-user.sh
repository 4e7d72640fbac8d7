#!/usr/bin/env bash
# Creates (as root) a throwaway user with /etc/subuid and /etc/subgid
# ranges, for tests that run podman and polyarch as a user of their own
# (its store, its login state), so the user polyci of the rootless run is
# left alone; prints its name.
set -euo pipefail
user=${1:-polypod}
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
grep -q "^$user:" /etc/subuid || usermod --add-subuids 300000-365535 "$user"
grep -q "^$user:" /etc/subgid || usermod --add-subgids 300000-365535 "$user"
echo "$user"
