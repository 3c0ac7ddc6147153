#!/usr/bin/env bash
# Installs what aio needs to build, test and benchmark, from Debian 12's
# packages. Idempotent: apt runs only when a package is missing.
set -euo pipefail

pkgs=(g++ clang cmake ninja-build pkg-config liburing-dev catch2 libcli11-dev libbenchmark-dev
      python3 python3-uvloop)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
