#!/bin/sh
# Makes sure `cloud-init` is on the PATH for the unit tests: they check the lab's rendered node
# user-data with cloud-init's own schema check (lib/bootstrap/cloud-init.test.ts). npm runs this
# before `npm run test:unit` (the pretest:unit script).
#
#   - cloud-init present: nothing to do.
#   - missing on a CI machine (CI=true) with apt-get, as root or with password-less sudo: install the
#     Debian package, as a fresh CI machine needs.
#   - missing anywhere else: say how to install it and carry on. Installing system packages on a
#     developer's machine is the developer's call; the schema test then fails with the same hint,
#     so a missing cloud-init is never a silent pass.
set -eu

if command -v cloud-init >/dev/null 2>&1; then
  exit 0
fi

if [ "${CI:-}" = true ] && command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    as_root=
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=sudo
  else
    as_root=none
  fi
  if [ "$as_root" != none ]; then
    echo "ensure-cloud-init: installing the Debian package cloud-init for the user-data schema test" >&2
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cloud-init >/dev/null
    exit 0
  fi
fi

echo "ensure-cloud-init: cloud-init is not installed, so the user-data schema test will fail." >&2
echo "ensure-cloud-init: install it with: sudo apt-get install -y cloud-init (Debian, Ubuntu)" >&2
