#!/bin/sh
# Entrypoint of the nginx-unprivileged stand-in, written for this project
# from the upstream image's documented behaviour (see FACTS.md): when the
# command is nginx, run the configuration scripts in /docker-entrypoint.d
# (sourcing *.envsh, running *.sh, each only if executable, in version
# order), then exec the command. The stand-in ships that folder empty.
set -e

say() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$0: $*"
    fi
}

case "$1" in
nginx | nginx-debug)
    scripts="$(find /docker-entrypoint.d/ -follow -type f 2>/dev/null | sort -V)"
    if [ -z "$scripts" ]; then
        say "No files found in /docker-entrypoint.d/, skipping configuration"
    else
        for script in $scripts; do
            if [ ! -x "$script" ]; then
                say "Ignoring $script, not executable"
                continue
            fi
            case "$script" in
            *.envsh)
                say "Sourcing $script"
                # shellcheck source=/dev/null
                . "$script"
                ;;
            *.sh) say "Launching $script"; "$script" ;;
            *) say "Ignoring $script" ;;
            esac
        done
        say "Configuration complete; ready for start up"
    fi
    ;;
esac

exec "$@"
