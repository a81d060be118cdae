#!/bin/sh
# Entrypoint of the postgres stand-in, written for this project (busybox sh)
# from the documented behaviour of the upstream image's docker-entrypoint.sh
# at 16.9-alpine; FACTS.md lists each behaviour and its source.
#
# When the command is postgres (or starts with an option, which then goes to
# postgres) and PGDATA holds no database yet:
#   1. read POSTGRES_PASSWORD, POSTGRES_USER (default postgres), POSTGRES_DB
#      (default: the user), POSTGRES_INITDB_ARGS, each also from <NAME>_FILE;
#   2. refuse to start without a password unless POSTGRES_HOST_AUTH_METHOD=trust;
#   3. initdb with that superuser and password, and allow password logins
#      from every address (host all all all <password_encryption>);
#   4. start a server on the Unix socket only, create POSTGRES_DB, run the
#      files in /docker-entrypoint-initdb.d, stop the server;
# then exec the command (the server listens on every address: the sample
# configuration says listen_addresses = '*').
set -eu

die() {
	echo "$0: error: $*" >&2
	exit 1
}

# file_env NAME [DEFAULT]: NAME from the environment, else from the file
# named by NAME_FILE, else DEFAULT; exported. Setting both is an error.
file_env() {
	name="$1"
	default="${2:-}"
	eval "value=\"\${$name:-}\" file=\"\${${name}_FILE:-}\""
	if [ -n "$value" ] && [ -n "$file" ]; then
		die "both $name and ${name}_FILE are set (but are exclusive)"
	fi
	if [ -z "$value" ]; then
		if [ -n "$file" ]; then
			value="$(cat "$file")"
		else
			value="$default"
		fi
	fi
	export "$name=$value"
	unset "${name}_FILE"
}

wants_help() {
	for arg in "$@"; do
		case "$arg" in
		'-?' | --help | --describe-config | -V | --version) return 0 ;;
		esac
	done
	return 1
}

# quote ARG...: each argument single-quoted for a shell (pg_ctl -o goes
# through one).
quote() {
	for arg in "$@"; do
		printf "'%s' " "$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")"
	done
}

# sql ARG...: psql as the superuser over the Unix socket of the temporary
# server. Upstream clears PGHOST to get the compiled-in socket folder; this
# build's compiled-in folder differs (see FACTS.md), so name it.
sql() {
	set -- --username "$POSTGRES_USER" --no-password --no-psqlrc -v ON_ERROR_STOP=1 "$@"
	PGHOST=/var/run/postgresql PGHOSTADDR='' psql "$@"
}

create_directories() {
	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		[ "$(id -u)" != 0 ] || find "$POSTGRES_INITDB_WALDIR" ! -user postgres -exec chown postgres {} +
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	if [ "$(id -u)" = 0 ]; then
		find "$PGDATA" ! -user postgres -exec chown postgres {} +
		find /var/run/postgresql ! -user postgres -exec chown postgres {} +
	fi
}

check_password() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'EOF'
			Error: the database is not initialised and no superuser password is set.
			       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value,
			       or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without one
			       (not recommended).
		EOF
		exit 1
	fi
	if [ "$POSTGRES_HOST_AUTH_METHOD" = trust ]; then
		echo "WARNING: POSTGRES_HOST_AUTH_METHOD=trust: anyone who reaches the port can connect without a password." >&2
	fi
}

init_database() {
	uid="$(id -u)"
	if ! awk -F: -v uid="$uid" '$3 == uid { found = 1 } END { exit !found }' /etc/passwd; then
		die "uid $uid has no /etc/passwd entry, which initdb needs (upstream falls back to nss_wrapper; this stand-in has none: run as uid 70)"
	fi
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		set -- --waldir "$POSTGRES_INITDB_WALDIR" "$@"
	fi
	# The password reaches initdb through a pipe, never a file on disk.
	printf '%s\n' "$POSTGRES_PASSWORD" |
		eval 'initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin '"$POSTGRES_INITDB_ARGS"' "$@"'
}

allow_remote_logins() {
	auth="$(postgres -C password_encryption "$@")"
	: "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
	{
		printf '\n'
		if [ "$POSTGRES_HOST_AUTH_METHOD" = trust ]; then
			printf '# warning trust is enabled for all connections\n'
		fi
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >>"$PGDATA/pg_hba.conf"
}

start_temporary_server() {
	PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" \
		-o "$(quote "$@" -c listen_addresses= -p "${PGPORT:-5432}")" -w start
}

stop_temporary_server() {
	PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

create_database() {
	exists="$(sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db' ;
	EOSQL
	)"
	if [ -z "$exists" ]; then
		sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
	fi
}

run_init_files() {
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
		*.sh)
			if [ -x "$f" ]; then
				echo "$0: running $f"
				"$f"
			else
				echo "$0: sourcing $f"
				# shellcheck source=/dev/null
				. "$f"
			fi
			;;
		*.sql) echo "$0: running $f"; sql --dbname "$POSTGRES_DB" -f "$f" ;;
		*.sql.gz) echo "$0: running $f"; gunzip -c "$f" | sql --dbname "$POSTGRES_DB" ;;
		*.sql.xz) echo "$0: running $f"; xzcat "$f" | sql --dbname "$POSTGRES_DB" ;;
		*.sql.zst) die "$f: zstd is not in this stand-in (upstream has it)" ;;
		*) echo "$0: ignoring $f" ;;
		esac
	done
}

case "${1:-}" in
-*) set -- postgres "$@" ;;
esac

# Called as docker-ensure-initdb.sh (upstream 16.9 ships it beside the entrypoint, for an init
# container): initialise an empty PGDATA as above, then exit instead of starting the server.
ensure_only=
if [ "$(basename "$0")" = docker-ensure-initdb.sh ]; then
	ensure_only=1
	set -- postgres "$@"
fi

if [ "${1:-}" = postgres ] && ! wants_help "$@"; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	create_directories
	if [ "$(id -u)" = 0 ]; then
		# Upstream steps down with gosu; busybox su does the same for root.
		exec su -p -s /bin/sh postgres -c 'exec "$0" "$@"' "$0" "$@"
	fi
	shift # the rest are options for postgres itself
	if [ -s "$PGDATA/PG_VERSION" ]; then
		echo "PostgreSQL database directory appears to contain a database; skipping initialisation"
	else
		check_password
		ls /docker-entrypoint-initdb.d/ >/dev/null
		init_database
		allow_remote_logins "$@"
		export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
		start_temporary_server "$@"
		create_database
		run_init_files
		stop_temporary_server
		unset PGPASSWORD
		echo "PostgreSQL init process complete; ready for start up."
	fi
	if [ -n "$ensure_only" ]; then
		exit 0
	fi
	set -- postgres "$@"
fi

exec "$@"
