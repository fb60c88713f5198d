#!/usr/bin/env bash
# Debian packages the tests run for real: cloud-init (`cloud-init schema` on our user data),
# docker-registry (the S3 registry mode against moto), skopeo (copies an image through it) and shellcheck
# (checks every script the pipeline runs).
# Installs what is missing when run as root; otherwise names what to install and fails.
set -euo pipefail
declare -A provides=([cloud-init]=cloud-init [docker-registry]=docker-registry [skopeo]=skopeo [shellcheck]=shellcheck)
missing=()
for command in "${!provides[@]}"; do
  command -v "$command" >/dev/null 2>&1 || [ -x "/usr/bin/$command" ] || missing+=("${provides[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
