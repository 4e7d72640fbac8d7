#!/usr/bin/env bash
# Creates (as root) a user with no /etc/subuid or /etc/subgid range, for
# the single-mapping fallback tests; prints its name.
set -euo pipefail
user=${1:-polyci-nosub}
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
sed -i "/^$user:/d" /etc/subuid /etc/subgid
echo "$user"
