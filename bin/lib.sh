# bin/lib.sh: what the commands in bin/ share, sourced by each of them.
#
# Settings (environment):
#   PG_CONFIG      pg_config of the PostgreSQL to build for (default: 15's)
#   TRACKLY_PORT   port of the throwaway cluster (default 54329)
#   TRACKLY_RUN    folder for the cluster, the HTTP stack and test builds
#                  (default: .run in the checkout)
#   TRACKLY_CLUSTER_DIR  the cluster's folder: data/, sock/, pgpass, log
#                  (default: $TRACKLY_RUN/pg; the Citus suite points the HTTP
#                  stack at its coordinator's)

set -euo pipefail

TRACKLY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
TRACKLY_PORT=${TRACKLY_PORT:-54329}
TRACKLY_RUN=${TRACKLY_RUN:-$TRACKLY_ROOT/.run}
TRACKLY_DB=${TRACKLY_DB:-trackly}

# Debian packages each job needs.
PACKAGES_BUILD="make gcc libc6-dev postgresql-15 postgresql-server-dev-15"
PACKAGES_TEST="clang libclang-rt-14-dev postgresql-15-pgtap pgtap python3-phonenumbers"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root (directly, or through sudo when not root).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs whichever of the given Debian packages are missing.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Builds the extension and installs it into PG_CONFIG's PostgreSQL.
build_and_install() {
	say "building and installing trackly_history"
	make -C "$TRACKLY_ROOT" -s PG_CONFIG="$PG_CONFIG" "$@" >/dev/null
	as_root make -C "$TRACKLY_ROOT" -s PG_CONFIG="$PG_CONFIG" "$@" install >/dev/null
}

# Points the PostgreSQL clients at the throwaway cluster.
cluster_env() {
	PGBIN=$("$PG_CONFIG" --bindir)
	CLUSTER_DIR=${TRACKLY_CLUSTER_DIR:-$TRACKLY_RUN/pg}
	PGDATA_DIR=$CLUSTER_DIR/data
	PGSOCK=$CLUSTER_DIR/sock
	PGPASSFILE=$CLUSTER_DIR/pgpass
	export PATH="$PGBIN:$PATH" PGHOST="$PGSOCK" PGPORT="$TRACKLY_PORT" PGUSER=postgres PGDATABASE="$TRACKLY_DB" PGPASSFILE
}

# Prints a random password of 32 letters and digits.
random_password() {
	local p
	p=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32) || true
	printf '%s' "$p"
}

# The cluster asks every client for a password (scram-sha-256), on its socket
# and on loopback TCP alike; the superuser's is in $PGPASSFILE (mode 600),
# readable only by the user who created the cluster.
CLUSTER_HBA="# trackly_history's throwaway cluster: a password for everyone (bin/lib.sh).
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256"

# Gives the superuser a new password, writes it to $PGPASSFILE and makes the
# cluster ask for passwords; the cluster runs and still lets this user in.
cluster_secure() {
	local password
	password=$(random_password)
	[ ${#password} -eq 32 ] || die "could not draw a password from /dev/urandom"
	# The password is letters and digits only: safe in the statement.
	psql -X -q -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET password_encryption = 'scram-sha-256';
ALTER ROLE postgres PASSWORD '$password';
SQL
	(umask 077 && printf '*:*:*:postgres:%s\n' "$password" >"$PGPASSFILE")
	printf '%s\n' "$CLUSTER_HBA" | as_postgres tee "$PGDATA_DIR/pg_hba.conf" >/dev/null
	as_postgres "$PGBIN/pg_ctl" -D "$PGDATA_DIR" reload >/dev/null
	sleep 0.5
}

# Runs a command as the postgres user (PostgreSQL refuses to run as root).
as_postgres() {
	if [ "$(id -un)" = postgres ]; then "$@"; else as_root runuser -u postgres -- "$@"; fi
}

# Starts the throwaway cluster (creating it on first use) and its database.
cluster_start() {
	cluster_env
	mkdir -p "$CLUSTER_DIR"
	as_root chown postgres: "$CLUSTER_DIR"
	as_postgres test -w "$CLUSTER_DIR" ||
		die "the postgres user cannot write $CLUSTER_DIR; set TRACKLY_RUN to a folder it can reach"
	if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
		say "creating a throwaway cluster in $PGDATA_DIR"
		as_postgres mkdir -p "$PGSOCK"
		# Trust only until cluster_secure, below, has set a password.
		as_postgres "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
		printf 'local all all trust\n' | as_postgres tee "$PGDATA_DIR/pg_hba.conf" >/dev/null
		rm -f "$PGPASSFILE"
		cat <<-CONF | as_postgres tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
		listen_addresses = '127.0.0.1'
		port = $TRACKLY_PORT
		unix_socket_directories = '$PGSOCK'
		max_connections = 50
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		shared_buffers = 256MB
		max_wal_size = 4GB
		CONF
	fi
	if ! as_postgres "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
		say "starting the throwaway cluster on port $TRACKLY_PORT"
		as_postgres "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$CLUSTER_DIR/log" -w -t 60 start >/dev/null ||
			{ tail -n 20 "$CLUSTER_DIR/log" >&2; die "the cluster did not start"; }
	fi
	# A new cluster, or one made before clusters had passwords.
	if [ ! -s "$PGPASSFILE" ] || ! grep -q '^local all all scram-sha-256$' "$PGDATA_DIR/pg_hba.conf" 2>/dev/null; then
		if [ ! -s "$PGPASSFILE" ] && ! as_postgres grep -qE '^local[[:space:]]+all[[:space:]]+all[[:space:]]+trust' "$PGDATA_DIR/pg_hba.conf"; then
			die "the cluster in $PGDATA_DIR asks for a password and $PGPASSFILE is gone; bin/cluster destroy makes a new one"
		fi
		say "the cluster asks for passwords from now on (the superuser's is in $PGPASSFILE)"
		cluster_secure
	fi
	psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$TRACKLY_DB'" | grep -q 1 ||
		psql -X -q -d postgres -c "CREATE DATABASE $TRACKLY_DB" >/dev/null
}

# Stops the throwaway cluster, if it runs.
cluster_stop() {
	cluster_env
	[ -f "$PGDATA_DIR/PG_VERSION" ] || return 0
	as_postgres "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
}
