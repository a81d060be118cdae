#!/bin/sh
# The official Traefik image's entrypoint behaviour (see ../../traefik/FACTS.md), in our words:
# arguments that start with a dash are options for traefik, and a first word that traefik accepts
# as a subcommand (`version`, `healthcheck`) is run by traefik; anything else is run as given.
set -e

case "${1:-}" in
  -*) set -- traefik "$@" ;;
esac

if traefik "$1" --help >/dev/null 2>&1; then
  set -- traefik "$@"
else
  echo "entrypoint: '$1' is not a traefik subcommand; running it as given" >&2
fi

exec "$@"
