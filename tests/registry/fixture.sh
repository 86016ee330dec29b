# shellcheck shell=bash
# Test peers for the registry tests: Debian's docker-registry (plain HTTP,
# TLS, htpasswd, token auth), a token server, a misbehaving registry, a test
# CA, and a busybox base seeded with skopeo. Source it after tests/e2e/lib.sh:
#
#   . "$SRCDIR/tests/e2e/lib.sh"; . "$SRCDIR/tests/registry/fixture.sh"
#
# Every peer listens on 127.0.0.1 (the offsite recorder on 127.0.0.2) on a
# port claimed outside the kernel's ephemeral range (free_port), is started in the
# background with its PID recorded, and is stopped by that PID (never by
# name) by fixture_stop_all, which the EXIT trap runs. Every file lives under
# one $FIXTURE_DIR, removed on exit (KEEP_TMP=1 keeps it).
#
# Functions (each exports what it made; see the comment above each):
#   ca_make
#   registry_start NAME [--tls|--mtls] [--htpasswd USER:PASS] [--token] [--port P] [--host 127.x.y.z] [--data DIR]
#   registry_stop NAME / registry_kill NAME / registry_restart NAME
#   registry_log_mark NAME / registry_log_since NAME MARK / registry_blob_puts NAME MARK [REPO]
#   token_server_start [--user USER:PASS] [--ttl SECONDS]
#   bad_registry_start MODE [--tls] / bad_registry_stop
#   fault_proxy_start NAME UPSTREAM_ADDR [--revoke-bearer-after N ...]
#   seed_base ADDR REPO:TAG [skopeo copy flags]
#   fixture_stop_all, fixture_on_exit CMD, fixture_cert_dir [--client]
# and checks that do not trust imagespec:
#   skopeo_raw_digest REF, pull_and_run REF, layout_run OCI:TAG,
#   registry_requests NAME MARK ERE, check_digest, check_jq, check_jsonl
# The peers' own logs are the oracle for what went over the wire:
# docker-registry's access log (every request and its status), the token
# server's and bad_registry.py's JSON lines.

FIXTURE_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIXTURE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/imagespec-registry.XXXXXX")
: "${PY:=$([ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)}"
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
# The peers are all on loopback: an ambient proxy must never see them.
export NO_PROXY=127.0.0.1,127.0.0.2,localhost,::1 no_proxy=127.0.0.1,127.0.0.2,localhost,::1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
# No ambient credentials: an empty docker config, no REGISTRY_AUTH_FILE.
mkdir -p "$FIXTURE_DIR/docker-config"
export DOCKER_CONFIG=$FIXTURE_DIR/docker-config
unset REGISTRY_AUTH_FILE
# No ambient registries.conf (a mirror or a blocked registry of the host's
# would change what the tests see): an empty one, read alone.
: >"$FIXTURE_DIR/registries.conf"
export IMAGESPEC_REGISTRIES_CONF=$FIXTURE_DIR/registries.conf
unset CONTAINERS_REGISTRIES_CONF

_FIXTURE_PIDS=()
_FIXTURE_UNDO=() # commands run at exit, last first (e.g. removing an installed certs.d entry)

fixture_stop_all() {
	local pid
	for pid in "${_FIXTURE_PIDS[@]}"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
	done
	for pid in "${_FIXTURE_PIDS[@]}"; do
		[ -n "$pid" ] || continue
		_fixture_wait_pid "$pid" 10 || {
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		}
	done
	_FIXTURE_PIDS=()
}

# fixture_on_exit CMD: runs CMD (eval'd) when the script exits.
fixture_on_exit() {
	_FIXTURE_UNDO+=("$1")
}

_fixture_exit() {
	local rc=$? i
	fixture_stop_all
	for ((i = ${#_FIXTURE_UNDO[@]} - 1; i >= 0; i--)); do
		eval "${_FIXTURE_UNDO[$i]}" || true
	done
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "# kept $FIXTURE_DIR" >&2
	else
		rm -rf "$FIXTURE_DIR"
	fi
	if declare -F _cleanup >/dev/null; then _cleanup; fi
	return $rc
}
trap _fixture_exit EXIT
# A signal (meson's timeout, ^C) must still stop the peers.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# _fixture_wait_pid PID SECONDS: waits for a child to end; 1 on timeout.
_fixture_wait_pid() {
	local pid=$1 n=$(($2 * 10))
	while [ $n -gt 0 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

_fixture_forget_pid() {
	local i
	for i in "${!_FIXTURE_PIDS[@]}"; do
		[ "${_FIXTURE_PIDS[$i]}" = "$1" ] && unset "_FIXTURE_PIDS[$i]"
	done
	return 0
}

# fixture_free_port [ADDR]: a port claimed for a peer on ADDR (default
# 127.0.0.1): free_port of tests/e2e/lib.sh.
fixture_free_port() {
	free_port "$@"
}

# fixture_wait_url URL SECONDS PID [CURL ARGS...]: waits until curl gets any
# HTTP answer from URL; fails early when PID died.
fixture_wait_url() {
	local url=$1 secs=$2 pid=$3 n
	shift 3
	n=$((secs * 10))
	while [ $n -gt 0 ]; do
		if curl -s -o /dev/null --max-time 2 "$@" "$url"; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# ca_make: a test CA, a server certificate for 127.0.0.1 and 127.0.0.2 (IP
# SANs; also DNS localhost) and a client certificate (for mTLS). Exports
# CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY.
# Idempotent.
ca_make() {
	local d=$FIXTURE_DIR/ca
	if [ -f "$d/client.crt" ]; then
		export CA_CERT=$d/ca.crt CA_KEY=$d/ca.key SERVER_CERT=$d/server.crt SERVER_KEY=$d/server.key
		export CLIENT_CERT=$d/client.crt CLIENT_KEY=$d/client.key
		return 0
	fi
	mkdir -p "$d"
	{
		openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
			-subj "/CN=imagespec test CA" -keyout "$d/ca.key" -out "$d/ca.crt" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
			openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=127.0.0.1" \
				-keyout "$d/server.key" -out "$d/server.csr" &&
			printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
				"extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost" \
				>"$d/server.ext" &&
			openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
				-days 2 -sha256 -extfile "$d/server.ext" -out "$d/server.crt" &&
			openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=imagespec test client" \
				-keyout "$d/client.key" -out "$d/client.csr" &&
			printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
				"extendedKeyUsage=clientAuth" >"$d/client.ext" &&
			openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
				-days 2 -sha256 -extfile "$d/client.ext" -out "$d/client.crt"
	} >"$d/openssl.log" 2>&1 || {
		cat "$d/openssl.log" >&2
		return 1
	}
	export CA_CERT=$d/ca.crt CA_KEY=$d/ca.key SERVER_CERT=$d/server.crt SERVER_KEY=$d/server.key
	export CLIENT_CERT=$d/client.crt CLIENT_KEY=$d/client.key
}

# _registry_config NAME: writes $FIXTURE_DIR/NAME/config.yml from the
# _REG_<NAME>_* settings.
_registry_config() {
	local name=$1 dir=$FIXTURE_DIR/$1
	local port tls htp token data host mtls
	eval "mtls=\$_REG_${name}_MTLS host=\$_REG_${name}_HOST port=\$_REG_${name}_PORT tls=\$_REG_${name}_TLS htp=\$_REG_${name}_HTPASSWD token=\$_REG_${name}_TOKEN data=\$_REG_${name}_DATA"
	{
		echo "version: 0.1"
		echo "log:"
		echo "  level: warn"
		echo "  formatter: text"
		echo "  accesslog:"
		echo "    disabled: false" # combined log lines on stdout: every request, with its status
		echo "storage:"
		echo "  filesystem:"
		echo "    rootdirectory: $data"
		echo "  delete:"
		echo "    enabled: true"
		echo "  maintenance:"
		echo "    uploadpurging:"
		echo "      enabled: false"
		echo "http:"
		echo "  addr: $host:$port"
		echo "  secret: imagespec-test-secret-$name"
		if [ "$tls" = 1 ]; then
			echo "  tls:"
			echo "    certificate: $SERVER_CERT"
			echo "    key: $SERVER_KEY"
			if [ "$mtls" = 1 ]; then
				echo "    clientcas:"
				echo "      - $CA_CERT"
			fi
		fi
		if [ "$htp" = 1 ]; then
			echo "auth:"
			echo "  htpasswd:"
			echo "    realm: imagespec-test"
			echo "    path: $dir/htpasswd"
		elif [ "$token" = 1 ]; then
			echo "auth:"
			echo "  token:"
			echo "    realm: $TOKEN_URL"
			echo "    service: $TOKEN_SERVICE"
			echo "    issuer: $TOKEN_ISSUER"
			echo "    rootcertbundle: $TOKEN_CERT"
		fi
	} >"$dir/config.yml"
}

# _registry_run NAME: starts the registry of NAME's config and waits for /v2/.
_registry_run() {
	local name=$1 dir=$FIXTURE_DIR/$1 host port tls mtls pid scheme curlargs=()
	eval "host=\$_REG_${name}_HOST port=\$_REG_${name}_PORT tls=\$_REG_${name}_TLS mtls=\$_REG_${name}_MTLS"
	scheme=http
	if [ "$tls" = 1 ]; then
		scheme=https
		curlargs=(--cacert "$CA_CERT")
		# An address the certificate does not name (on purpose): only wait
		# for an answer.
		case $host in 127.0.0.1 | 127.0.0.2) ;; *) curlargs=(-k) ;; esac
		[ "$mtls" = 1 ] && curlargs+=(--cert "$CLIENT_CERT" --key "$CLIENT_KEY")
	fi
	# The registry logs (access log on stdout, errors on stderr) go to one
	# file, appended across restarts.
	"$REGISTRY_BIN" serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
	pid=$!
	_FIXTURE_PIDS+=("$pid")
	eval "export ${name}_PID=$pid"
	if ! fixture_wait_url "$scheme://$host:$port/v2/" 30 "$pid" "${curlargs[@]}"; then
		echo "fixture: registry $name did not start on $host:$port; its log:" >&2
		tail -n 20 "$dir/registry.log" >&2
		return 1
	fi
}

# registry_start NAME [--tls|--mtls] [--htpasswd USER:PASS] [--token] [--port P] [--host IP] [--data DIR]
# Starts `docker-registry serve` with its own config (filesystem storage in
# a temp dir, deletes enabled, the access log on) on 127.0.0.1:PORT (or
# IP:PORT, IP in 127.0.0.0/8) and
# waits until /v2/ answers. --tls uses ca_make's server certificate; --mtls
# also requires a client certificate signed by the test CA (clientcas);
# --htpasswd writes a bcrypt htpasswd file; --token trusts the token server
# (token_server_start first). Exports NAME_ADDR (127.0.0.1:PORT), NAME_PID,
# NAME_LOG, NAME_DATA, NAME_SCHEME (http/https) and NAME_CONFIG.
registry_start() {
	local name=$1 tls=0 mtls=0 htp=0 token=0 port="" data="" creds="" host=127.0.0.1
	shift
	case $name in [A-Za-z_]*) ;; *)
		echo "fixture: bad registry name $name" >&2
		return 1
		;;
	esac
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) tls=1 ;;
		--mtls)
			tls=1
			mtls=1
			;;
		--htpasswd)
			htp=1
			creds=$2
			shift
			;;
		--token) token=1 ;;
		--port)
			port=$2
			shift
			;;
		--host)
			host=$2
			shift
			;;
		--data)
			data=$2
			shift
			;;
		*)
			echo "fixture: registry_start: unknown option $1" >&2
			return 1
			;;
		esac
		shift
	done
	local dir=$FIXTURE_DIR/$name
	mkdir -p "$dir"
	case $host in 127.*) ;; *)
		echo "fixture: registry_start: loopback addresses only ($host)" >&2
		return 1
		;;
	esac
	[ -n "$port" ] || port=$(fixture_free_port "$host") || return 1
	[ -n "$data" ] || data=$dir/data
	mkdir -p "$data"
	if [ $tls = 1 ]; then ca_make || return 1; fi
	if [ $htp = 1 ]; then
		htpasswd -Bbn "${creds%%:*}" "${creds#*:}" >"$dir/htpasswd" 2>/dev/null || {
			echo "fixture: htpasswd failed (apache2-utils?)" >&2
			return 1
		}
	fi
	if [ $token = 1 ] && [ -z "${TOKEN_URL:-}" ]; then
		echo "fixture: registry_start --token needs token_server_start first" >&2
		return 1
	fi
	eval "_REG_${name}_MTLS=$mtls _REG_${name}_HOST=$host _REG_${name}_PORT=$port _REG_${name}_TLS=$tls _REG_${name}_HTPASSWD=$htp _REG_${name}_TOKEN=$token"
	eval "_REG_${name}_DATA=\$data"
	_registry_config "$name"
	eval "export ${name}_ADDR=$host:$port ${name}_LOG=\$dir/registry.log ${name}_DATA=\$data"
	eval "export ${name}_CONFIG=\$dir/config.yml ${name}_SCHEME=$([ $tls = 1 ] && echo https || echo http)"
	: >>"$dir/registry.log"
	_registry_run "$name"
}

# registry_stop NAME: SIGTERM by PID, then wait (SIGKILL after 10 s).
registry_stop() {
	local pid
	eval "pid=\${${1}_PID:-}"
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	_fixture_wait_pid "$pid" 10 || {
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	}
	_fixture_forget_pid "$pid"
	eval "${1}_PID="
}

# registry_kill NAME: SIGKILL by PID (a crash, mid-request), then wait.
registry_kill() {
	local pid
	eval "pid=\${${1}_PID:-}"
	[ -n "$pid" ] || return 0
	kill -9 "$pid" 2>/dev/null
	_fixture_wait_pid "$pid" 10
	_fixture_forget_pid "$pid"
	eval "${1}_PID="
}

# registry_restart NAME: starts NAME again on the same port, config and storage.
registry_restart() {
	registry_stop "$1"
	_registry_run "$1"
}

# registry_log_mark NAME: the current line count of NAME's log, for
# registry_log_since.
registry_log_mark() {
	local log
	eval "log=\$${1}_LOG"
	wc -l <"$log" | tr -d ' '
}

# registry_log_since NAME MARK: the lines NAME logged after MARK.
registry_log_since() {
	local log
	eval "log=\$${1}_LOG"
	tail -n +"$(($2 + 1))" "$log"
}

# registry_blob_puts NAME MARK [REPO]: how many blob uploads NAME completed
# (access-log lines `"PUT /v2/REPO/blobs/uploads/...` answered 201) after MARK.
registry_blob_puts() {
	local repo=${3:-[^ ]+}
	registry_log_since "$1" "$2" | grep -Ec "\"PUT /v2/$repo/blobs/uploads/[^ ]* HTTP/[0-9.]+\" 201 "
}

# registry_requests NAME MARK ERE: access-log request lines after MARK matching ERE.
registry_requests() {
	registry_log_since "$1" "$2" | grep -E '"[A-Z]+ /v2/' | grep -Ec -- "$3"
}

# token_server_start [--user USER:PASS] [--ttl SECONDS]: tests/registry/
# token_server.py on a free port, with a fresh RSA key and a self-signed
# certificate that registry_start --token puts in the rootcertbundle.
# Exports TOKEN_URL (the realm), TOKEN_ADDR (its 127.0.0.1:PORT), TOKEN_PID,
# TOKEN_LOG (one JSON line per request), TOKEN_CERT, TOKEN_SERVICE,
# TOKEN_ISSUER, TOKEN_USER, TOKEN_PASS. The realm is on another port than
# the registry's, so imagespec sends it credentials only when the spec
# names it (`registries: {"$TOKEN_ADDR": {insecure: true}}`; see
# token_trust) or --insecure-registry does.
token_server_start() {
	local user=alice:token-canary-pass ttl=300 port pid d=$FIXTURE_DIR/token
	while [ $# -gt 0 ]; do
		case $1 in
		--user)
			user=$2
			shift
			;;
		--ttl)
			ttl=$2
			shift
			;;
		*)
			echo "fixture: token_server_start: unknown option $1" >&2
			return 1
			;;
		esac
		shift
	done
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=imagespec test token issuer" \
		-keyout "$d/signing.key" -out "$d/signing.crt" >"$d/openssl.log" 2>&1 || {
		cat "$d/openssl.log" >&2
		return 1
	}
	port=$(fixture_free_port) || return 1
	export TOKEN_SERVICE=imagespec-test-registry TOKEN_ISSUER=imagespec-test-issuer
	export TOKEN_CERT=$d/signing.crt TOKEN_LOG=$d/requests.jsonl TOKEN_URL=http://127.0.0.1:$port/token
	export TOKEN_ADDR=127.0.0.1:$port
	export TOKEN_USER=${user%%:*} TOKEN_PASS=${user#*:}
	: >"$TOKEN_LOG"
	"$PY" "$FIXTURE_LIB/token_server.py" --port "$port" --key "$d/signing.key" --cert "$d/signing.crt" \
		--issuer "$TOKEN_ISSUER" --service "$TOKEN_SERVICE" --user "$user" --log "$TOKEN_LOG" \
		--ttl "$ttl" >>"$d/server.log" 2>&1 </dev/null &
	pid=$!
	_FIXTURE_PIDS+=("$pid")
	export TOKEN_PID=$pid
	fixture_wait_url "http://127.0.0.1:$port/ping" 20 "$pid" || {
		echo "fixture: the token server did not start:" >&2
		cat "$d/server.log" >&2
		return 1
	}
	# The probe above is logged too; start from an empty log.
	: >"$TOKEN_LOG"
}

# token_trust ADDR...: the spec lines that name token servers on plain HTTP
# (127.0.0.1:PORT) as the user's own, so that credentials may go to them.
token_trust() {
	local a
	printf 'registries:\n'
	for a in "$@"; do
		printf '  "%s": {insecure: true}\n' "$a"
	done
}

# bad_registry_start MODE [--tls]: tests/registry/bad_registry.py on a free
# port (MODE: bad-blob-digest, bad-manifest-digest, huge-manifest,
# 500-always, redirect-offsite, upload-offsite, none, and the modes bad_registry.py
# lists), serving bad/img:1. With --tls it
# speaks TLS with ca_make's server certificate and logs any plain-HTTP
# attempt ({"plain_http": true}) and failed handshake ({"tls_error"}).
# Exports BAD_ADDR, BAD_PID, BAD_LOG (JSON lines), BAD_REF
# (BAD_ADDR/bad/img:1) and, for redirect-offsite, upload-offsite and
# foreign-layer*, OFFSITE_ADDR (127.0.0.2:PORT).
bad_registry_start() {
	local mode=$1 port oport pid d=$FIXTURE_DIR/bad-$1 extra=() probe=(http)
	[ "${2:-}" = --tls ] && d=$d-tls
	mkdir -p "$d"
	port=$(fixture_free_port) || return 1
	if [ "$mode" = redirect-offsite ] || [ "$mode" = upload-offsite ] || [ "${mode#foreign-layer}" != "$mode" ] ||
		[ "${mode#bad-put-}" != "$mode" ]; then
		oport=$(fixture_free_port 127.0.0.2) || return 1
		extra=(--offsite-host 127.0.0.2 --offsite-port "$oport")
		export OFFSITE_ADDR=127.0.0.2:$oport
	fi
	if [ "${2:-}" = --tls ]; then
		ca_make || return 1
		extra+=(--tls-cert "$SERVER_CERT" --tls-key "$SERVER_KEY")
		probe=(https --cacert "$CA_CERT")
	fi
	export BAD_LOG=$d/requests.jsonl BAD_ADDR=127.0.0.1:$port
	export BAD_REF=$BAD_ADDR/bad/img:1
	: >"$BAD_LOG"
	"$PY" "$FIXTURE_LIB/bad_registry.py" --mode "$mode" --port "$port" --log "$BAD_LOG" \
		--arch "$(host_arch)" "${extra[@]}" >>"$d/server.log" 2>&1 </dev/null &
	pid=$!
	_FIXTURE_PIDS+=("$pid")
	export BAD_PID=$pid
	fixture_wait_url "${probe[0]}://$BAD_ADDR/ping" 20 "$pid" "${probe[@]:1}" || {
		echo "fixture: bad_registry.py ($mode) did not start:" >&2
		cat "$d/server.log" >&2
		return 1
	}
	: >"$BAD_LOG"
}

# secret_hits FILE...: the secrets in FILEs, one a line: each fixed string
# given as grep -e arguments in the array SECRETS, and any JWT. Empty when
# there are none. Every file is read whole (no pipe into an early-exit reader).
secret_hits() {
	local hits
	hits=$(grep -ahoF "${SECRETS[@]}" -- "$@" 2>/dev/null)
	if grep -aqE 'eyJ[A-Za-z0-9_-]{10,}\.eyJ' -- "$@" 2>/dev/null; then
		hits+=${hits:+$'\n'}"a JWT"
	fi
	printf '%s' "$hits"
}

# check_no_secret DESC FILE...: passes when secret_hits finds nothing.
check_no_secret() {
	local desc=$1 hit
	shift
	hit=$(secret_hits "$@")
	if [ -z "$hit" ]; then
		ok "$desc"
	else
		not_ok "$desc" "found: ${hit:0:300}"
		return 1
	fi
}

# blob_secret_hits LAYOUT...: the blobs of OCI layouts that hold a secret
# (SECRETS), each with where: raw (a manifest, a config, a layer's
# compressed bytes), or once decompressed (gzip or zstd: the tar headers
# and the files). A compressed blob that does not decompress whole is a
# finding too: it cannot be shown clean.
blob_secret_hits() {
	local l b magic tmp=$FIXTURE_DIR/.blob-sweep
	mkdir -p "$tmp"
	for l in "$@"; do
		for b in "$l"/blobs/sha256/*; do
			[ -f "$b" ] || continue
			magic=$(od -An -tx1 -N4 "$b" | tr -d ' \n')
			if [ -n "$(secret_hits "$b")" ]; then
				echo "$b (raw)"
			elif [ "${magic:0:4}" = 1f8b ] || [ "$magic" = 28b52ffd ]; then
				if ! { [ "$magic" = 28b52ffd ] && zstd -dcq "$b" || gzip -dc "$b"; } >"$tmp/layer" 2>/dev/null; then
					echo "$b (does not decompress)"
				elif [ -n "$(secret_hits "$tmp/layer")" ]; then
					echo "$b (decompressed)"
				fi
			fi
		done
	done
	rm -rf "$tmp"
}

# fault_proxy_start NAME UPSTREAM_ADDR [fault_proxy.py options]: starts
# tests/registry/fault_proxy.py in front of UPSTREAM_ADDR (a registry of this
# fixture), on a port it binds itself. Exports NAME_ADDR, NAME_PID and
# NAME_LOG (one JSON line per request).
fault_proxy_start() {
	local name=$1 up=$2 d=$FIXTURE_DIR/proxy-$1 pid n=300 port
	shift 2
	mkdir -p "$d"
	: >"$d/requests.jsonl"
	"$PY" "$FIXTURE_LIB/fault_proxy.py" --upstream-port "${up##*:}" --port-file "$d/port" \
		--log "$d/requests.jsonl" "$@" >>"$d/server.log" 2>&1 </dev/null &
	pid=$!
	_FIXTURE_PIDS+=("$pid")
	while [ ! -s "$d/port" ]; do
		if ! kill -0 "$pid" 2>/dev/null || [ $((n -= 1)) -le 0 ]; then
			echo "fixture: fault_proxy.py did not start:" >&2
			cat "$d/server.log" >&2
			return 1
		fi
		sleep 0.1
	done
	port=$(cat "$d/port")
	eval "export ${name}_ADDR=127.0.0.1:$port ${name}_PID=$pid ${name}_LOG=\$d/requests.jsonl"
}

# bad_registry_stop: stops the bad registry by its PID.
bad_registry_stop() {
	[ -n "${BAD_PID:-}" ] || return 0
	kill "$BAD_PID" 2>/dev/null
	_fixture_wait_pid "$BAD_PID" 10
	_fixture_forget_pid "$BAD_PID"
	BAD_PID=
}

# busybox_layout: builds (once) the busybox base (examples/busybox: scratch +
# Debian's busybox-static) with imagespec into $FIXTURE_DIR/busybox-oci:1 and
# prints that reference.
busybox_layout() {
	local d=$FIXTURE_DIR/busybox
	if [ ! -f "$FIXTURE_DIR/busybox-oci/index.json" ]; then
		mkdir -p "$d/rootfs/bin"
		cp "$SRCDIR/examples/busybox/image.yaml" "$d/image.yaml" || return 1
		cp "$(busybox_path)" "$d/rootfs/bin/busybox" || return 1
		"$IMAGESPEC" build "$d/image.yaml" --output "oci:$FIXTURE_DIR/busybox-oci:1" --progress quiet \
			>"$d/build.log" 2>&1 || {
			cat "$d/build.log" >&2
			return 1
		}
	fi
	echo "oci:$FIXTURE_DIR/busybox-oci:1"
}

# stop_mid_upload DATA_DIR REPO PID [SESSIONS]: waits until the registry
# whose storage is DATA_DIR holds more than 1 MiB of an upload to REPO, then
# freezes PID with SIGSTOP (an upload cannot finish meanwhile, however
# loaded the machine) and prints the bytes received; "exited" or "timeout"
# and status 1 otherwise. Sessions named in SESSIONS (space-separated
# upload ids) are not counted: an interrupted build may leave its own.
stop_mid_upload() {
	"$PY" - "$1" "$2" "$3" "${4:-}" <<'EOF'
import glob, os, signal, sys, time
root, repo, pid, before = sys.argv[1], sys.argv[2], int(sys.argv[3]), set(sys.argv[4].split())
deadline = time.time() + 300
while time.time() < deadline:
    for f in glob.glob(os.path.join(root, "docker/registry/v2/repositories", repo, "_uploads/*/data")):
        if os.path.basename(os.path.dirname(f)) in before:
            continue
        try:
            n = os.path.getsize(f)
        except OSError:
            continue
        if n > 1 << 20:
            os.kill(pid, signal.SIGSTOP)
            print(n)
            sys.exit(0)
    try:
        os.kill(pid, 0)
    except OSError:
        print("exited")
        sys.exit(1)
    time.sleep(0.005)
print("timeout")
sys.exit(1)
EOF
}


# seed_base ADDR REPO:TAG [skopeo copy flags]: pushes the busybox base to
# docker://ADDR/REPO:TAG with skopeo (no internet needed). For a TLS
# registry add --dest-cert-dir DIR (or leave TLS unverified: the default is
# --dest-tls-verify=false); for auth --dest-creds USER:PASS.
seed_base() {
	local addr=$1 ref=$2 src
	shift 2
	src=$(busybox_layout) || return 1
	skopeo copy -q --dest-tls-verify=false "$@" "$src" "docker://$addr/$ref" >"$FIXTURE_DIR/seed.log" 2>&1 || {
		cat "$FIXTURE_DIR/seed.log" >&2
		return 1
	}
}

# fixture_cert_dir [--client]: a directory with ca.crt (skopeo's --cert-dir
# layout, and certs.d's), with --client also client.cert and client.key.
fixture_cert_dir() {
	local d=$FIXTURE_DIR/certdir
	ca_make || return 1
	[ "${1:-}" = --client ] && d=$d-client
	mkdir -p "$d"
	cp "$CA_CERT" "$d/ca.crt"
	if [ "${1:-}" = --client ]; then
		cp "$CLIENT_CERT" "$d/client.cert"
		cp "$CLIENT_KEY" "$d/client.key"
	fi
	echo "$d"
}

# json_actions FILE: "digest action" per layer of every manifest in a
# `build --json` document.
json_actions() {
	jq -r '.manifests[].layers[] | "\(.digest) \(.action)"' "$1"
}

# --- checks with tools that are not imagespec --------------------------------

# skopeo_raw_digest DOCKER_REF [skopeo flags]: sha256 of the manifest bytes
# skopeo reads from the registry (TLS unverified unless flags say otherwise).
skopeo_raw_digest() {
	local ref=$1 d
	shift
	[ $# -gt 0 ] || set -- --tls-verify=false
	d=$(skopeo inspect --raw "$@" "docker://$ref" | sha256sum | cut -d' ' -f1) || return 1
	[ "$d" != "$(printf '' | sha256sum | cut -d' ' -f1)" ] || return 1
	echo "sha256:$d"
}

# pull_and_run DOCKER_REF [skopeo copy flags]: copies the image with skopeo
# into a fresh OCI layout (skopeo verifies every digest on the way), unpacks
# it with umoci and runs its process in a chroot (runbundle.py, from umoci's
# reading of the config). Prints the process's output. Meant for $(...), so
# the last pull is left where $PULLED_LAYOUT (x) and $PULLED_BUNDLE point.
PULLED_LAYOUT=$FIXTURE_DIR/pulled-last/layout
PULLED_BUNDLE=$FIXTURE_DIR/pulled-last/bundle
pull_and_run() {
	local ref=$1 d
	shift
	[ $# -gt 0 ] || set -- --src-tls-verify=false
	d=$(mktemp -d "$FIXTURE_DIR/pulled.XXXXXX") || return 1
	ln -sfn "$d" "$FIXTURE_DIR/pulled-last"
	skopeo copy -q "$@" "docker://$ref" "oci:$d/layout:x" >"$d/log" 2>&1 || {
		cat "$d/log"
		return 1
	}
	umoci unpack --image "$d/layout:x" "$d/bundle" >"$d/log" 2>&1 || {
		cat "$d/log"
		return 1
	}
	"$PY" "$SRCDIR/tests/e2e/runbundle.py" "$d/bundle" 2>&1
}

# layout_run OCI_DIR:TAG: umoci unpack + run (for layouts imagespec wrote).
layout_run() {
	local d
	d=$(mktemp -d "$FIXTURE_DIR/unpacked.XXXXXX") || return 1
	umoci unpack --image "$1" "$d/bundle" >"$d/log" 2>&1 || {
		cat "$d/log"
		return 1
	}
	"$PY" "$SRCDIR/tests/e2e/runbundle.py" "$d/bundle" 2>&1
}

# elapsed_since START: whole seconds since START (from `date +%s`).
elapsed_since() {
	echo $(($(date +%s) - $1))
}

# check_digest DESC EXPECTED ACTUAL: both are sha256 digests, and equal (an
# empty answer on both sides never passes).
check_digest() {
	if [[ $2 =~ ^sha256:[0-9a-f]{64}$ ]] && [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: ${2:-(nothing)}" "actual:   ${3:-(nothing)}"
		return 1
	fi
}

# check_jq DESC FILTER FILE [JQ ARGS...]: FILE holds one JSON object and
# FILTER is true on it.
check_jq() {
	local desc=$1 filter=$2 file=$3 out
	shift 3
	if out=$(jq -se "length == 1 and (.[0] | type == \"object\") and (.[0] | $filter)" "$@" "$file" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "jq: $filter" "result: $out" "document: $(head -c 1500 "$file" 2>/dev/null)"
		return 1
	fi
}

# check_jsonl DESC FILTER FILE [JQ ARGS...]: FILTER is true on the array of
# the JSON lines in FILE (the peers' logs).
check_jsonl() {
	local desc=$1 filter=$2 file=$3 out
	shift 3
	if out=$(jq -se "$filter" "$@" "$file" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "jq -s: $filter" "result: $out" "log: $(tail -c 1500 "$file" 2>/dev/null)"
		return 1
	fi
}

# Under ASan/UBSan (CI's second run) a sanitizer report exits 1, which a test
# expecting a failure (exit 1) would take for the failure it wanted. So every
# run_expect also fails when the command's stderr holds a sanitizer report.
if declare -F run_expect >/dev/null && ! declare -F _lib_run_expect >/dev/null; then
	eval "$(declare -f run_expect | sed '1s/^run_expect/_lib_run_expect/')"
	run_expect() {
		local desc=${DESC:-$*} rc
		_lib_run_expect "$@"
		rc=$?
		if grep -Eq 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: |SUMMARY: UndefinedBehaviorSanitizer' "$RUN_ERR"; then
			local report
			report=$(grep -E -A12 'Sanitizer|runtime error' "$RUN_ERR")
			not_ok "no sanitizer report: $desc" "${report:0:3000}"
			return 1
		fi
		return $rc
	}
fi
