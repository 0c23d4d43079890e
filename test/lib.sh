# SPDX-License-Identifier: Apache-2.0
# lib.sh - the harness that test/integration/*.sh and test/demo.sh share. Sourced, never run (it
# lives outside test/integration/ so that test/run-all.sh does not take it for a test), by a script
# that has moved to the top of the tree:
#     cd "$(dirname "$0")/../.."
#     . test/lib.sh
# Sets root (the tree), BUILD (the build directory, made absolute; default build) and sample
# (openssl.cnf.sample). A script that calls work_dir lists the pids it starts in $pids, and may name
# the step in progress in $last: fail names it, and a failure shows only that step's output.
# The lib's own variables start with an underscore, so that they never clobber a script's.
# shellcheck shell=sh

root=$PWD
BUILD=${BUILD:-build}
# A relative BUILD names a directory of the tree, whatever directory the script moves to later.
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
# The shipped configuration: it routes the openssl CLI, and any server that reads it, through
# uringprov.
sample=$root/openssl.cnf.sample
pids=""
tmp=""

# fail MESSAGE...: the test fails here; the step in progress ($last), if any, prefixes the message.
fail() {
    echo "FAIL: ${last:+$last: }$*"
    exit 1
}

# require [-m HINT] TOOL...: a missing tool is a skip (exit 77: the test cannot run on this machine),
# a missing build a failure (make check builds before it tests).
require() {
    _hint=""
    if [ "${1:-}" = -m ]; then
        _hint=" ($2)"
        shift 2
    fi
    for _tool in "$@"; do
        command -v "$_tool" >/dev/null 2>&1 || { echo "SKIP: $_tool not found$_hint"; exit 77; }
    done
    [ -f "$BUILD/uringprov.so" ] || { echo "FAIL: $BUILD/uringprov.so not built"; exit 1; }
}

# libs_of PROGRAM: "libcrypto-path libssl-path" as the dynamic loader resolves them for PROGRAM in
# this environment (LD_LIBRARY_PATH included), symlinks resolved; a library it does not load is "-".
libs_of() {
    for _lib in libcrypto libssl; do
        _path=$(ldd "$1" 2>/dev/null | awk -v l="$_lib" 'index($1, l ".so") == 1 && $3 ~ /^\// {
                    print $3; exit }')
        if [ -n "$_path" ]; then readlink -f "$_path"; else echo -; fi
    done | tr '\n' ' ' | sed 's/ $//'
}

# same_openssl SERVER: skip (exit 77) unless the program SERVER (a name in PATH) runs on the OpenSSL
# under test: the libcrypto and libssl that the openssl in PATH runs on. A system server is linked
# against the system's OpenSSL: Debian 12's haproxy and nginx against libcrypto.so.3 (3.0). Under another major version (4.0's libcrypto.so.4) the server would still
# run on 3.0, and load a uringprov built for 4.0 that drags libcrypto.so.4 into its process: a test
# of neither. Within 3.x the soname is the same, and the LD_LIBRARY_PATH that make OPENSSL_PREFIX=...
# exports makes the server load the version under test (3.5's libcrypto.so.3 and libssl.so.3,
# ABI-compatible with the 3.0 it was linked against): that is the version under test really
# running, and a valid test.
same_openssl() {
    _bin=$(command -v "$1") || { echo "SKIP: $1 not found"; exit 77; }
    _want=$(libs_of "$(command -v openssl)")
    _got=$(libs_of "$_bin")
    case $_want in -*) fail "cannot tell which libcrypto $(command -v openssl) runs on" ;; esac
    case $_got in -*) fail "cannot tell which libcrypto $_bin runs on" ;; esac
    if [ "$_got" != "$_want" ]; then
        echo "SKIP: $1 is linked against another libcrypto than the OpenSSL under test" \
            "($1: $_got; openssl: $_want)"
        exit 77
    fi
}

# work_dir NAME: a scratch directory $tmp (/tmp/uo-NAME.XXXXXX), cleaned up by the EXIT trap.
work_dir() {
    tmp=$(mktemp -d "/tmp/uo-$1.XXXXXX")
    trap on_exit EXIT
    # A signal would end the shell without running the EXIT trap: turn it into an exit.
    trap 'exit 1' INT TERM HUP
}

# on_exit: stops the pids still in $pids (never anything else); on success removes $tmp, on failure
# prints the tails of the outputs (only $last's when set) and keeps $tmp for a closer look.
on_exit() {
    _rc=$?
    for _p in $pids; do
        kill "$_p" 2>/dev/null || true
    done
    if [ "$_rc" -ne 0 ]; then
        if [ -n "${last:-}" ]; then
            set -- "$tmp/$last.out" "$tmp/$last.log"
        else
            set -- "$tmp"/*.out "$tmp"/*.log
        fi
        for _f in "$@"; do
            [ -f "$_f" ] || continue
            echo "---- $_f (last 40 lines)"
            tail -n 40 "$_f"
        done
        echo "logs kept in $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$_rc"
}

# forget PID: PID has exited and been waited for; the EXIT trap must not signal its number again.
forget() {
    pids=$(echo " $pids " | sed "s/ $1 / /")
}

# wait_exit PID [SECONDS]: until the child PID exits (fails after SECONDS, default 20); forgets it
# and returns its exit status.
wait_exit() {
    _n=0
    while kill -0 "$1" 2>/dev/null; do
        _n=$((_n + 1))
        [ "$_n" -le $((${2:-20} * 20)) ] || fail "process $1 did not exit"
        sleep 0.05
    done
    _rc=0
    wait "$1" || _rc=$?
    forget "$1"
    return "$_rc"
}

# wait_for FILE PATTERN [PID]: until FILE has a line matching PATTERN; fails after 20 s, or at once
# if PID (the process that should write it) has exited.
wait_for() {
    _n=0
    until grep -q -e "$2" "$1" 2>/dev/null; do
        [ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || fail "process $3 exited before '$2' in $1"
        _n=$((_n + 1))
        [ "$_n" -le 400 ] || fail "no '$2' in $1 after 20 s"
        sleep 0.05
    done
}

# s_server_port FILE PID: sets port to the one that `openssl s_server -accept 127.0.0.1:0` (PID,
# output in FILE) picked, once it prints it: a port the kernel chose cannot be taken by another test.
s_server_port() {
    wait_for "$1" '^ACCEPT 127\.0\.0\.1:' "$2"
    port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$1" | head -n 1)
    [ -n "$port" ] || fail "no port in $1"
}

# pick_port: a loopback port below the ephemeral range (so no client connection takes it meanwhile)
# with no socket on it. Another process may still bind it first: callers retry on a bind error.
pick_port() {
    while :; do
        _p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
        grep -q -i ":$(printf '%04X' "$_p") " /proc/net/tcp /proc/net/tcp6 2>/dev/null || break
    done
    echo "$_p"
}

# listening PORT...: every PORT has a listening socket on 127.0.0.1 (the server is ready to accept).
listening() {
    for _port in "$@"; do
        grep -q -i "0100007F:$(printf '%04X' "$_port") 00000000:0000 0A" /proc/net/tcp || return 1
    done
}

# wait_listening NAME PID PORT...: 0 once server NAME (PID) listens on every PORT; 1 if it exited
# first (waited for and forgotten: its log tells whether it lost a bind race); fails after 20 s.
wait_listening() {
    _name=$1 _pid=$2
    shift 2
    _n=0
    while kill -0 "$_pid" 2>/dev/null && ! listening "$@"; do
        _n=$((_n + 1))
        [ "$_n" -le 400 ] || fail "$_name is not listening after 20 s"
        sleep 0.05
    done
    kill -0 "$_pid" 2>/dev/null && return 0
    wait_exit "$_pid" || true
    return 1
}

# make_certs: rsa.key/rsa.crt (RSA-2048) and ec.key/ec.crt (ECDSA P-256), self-signed for localhost
# by the default provider alone, with the organisation naming the key type so that a client can tell
# which one it got; ca.crt trusts both.
make_certs() {
    for _kind in rsa ec; do
        if [ "$_kind" = rsa ]; then
            _alg="-newkey rsa:2048"
        else
            _alg="-newkey ec -pkeyopt ec_paramgen_curve:P-256"
        fi
        # shellcheck disable=SC2086
        OPENSSL_CONF=/dev/null openssl req -x509 $_alg -nodes -keyout "$_kind.key" -out "$_kind.crt" \
            -subj "/O=uringprov-test-$_kind/CN=localhost" -addext subjectAltName=DNS:localhost -days 2 \
            >>certs.out 2>&1 || fail "cannot make the $_kind certificate"
    done
    cat rsa.crt ec.crt >ca.crt
}

# serves_ecdsa: this build of uringprov offers ECDSA signatures, so that ECDSA handshakes count too.
serves_ecdsa() {
    OPENSSL_MODULES=$BUILD OPENSSL_CONF=/dev/null \
        openssl list -signature-algorithms -provider uringprov 2>/dev/null | grep -q 'ECDSA.*@ uringprov'
}

# sample_with FILE LINE...: openssl.cnf.sample with each LINE added to uringprov's section, as a
# deployment would change a uringprov setting.
sample_with() {
    _out=$1
    shift
    awk -v add="$(printf '%s\n' "$@")" '{ print } /^\[uringprov_sect\]/ && add != "" { print add }' \
        "$sample" >"$_out"
    for _line in "$@"; do
        grep -q -x -F -e "$_line" "$_out" || fail "could not write $_out"
    done
}

# uo_run CONF LOG LEVEL COMMAND...: COMMAND with uringprov from $BUILD preferred through CONF, and
# its debug log at LEVEL in LOG: the log is the proof that uringprov loaded and did the work.
uo_run() {
    _conf=$1 _log=$2 _level=$3
    shift 3
    OPENSSL_MODULES=$BUILD OPENSSL_CONF=$_conf URINGPROV_DEBUG="file:$_log,level:$_level" "$@"
}

# stats_line LOG [PID]: the last "stats:" line (the counters uringprov logs when it unloads) in the
# debug log LOG, of process PID if given; empty when uringprov never unloaded.
stats_line() {
    if [ -n "${2:-}" ]; then
        grep "^[0-9:.]* \[$2\] .* stats: " "$1" 2>/dev/null | tail -n 1
    else
        grep ' stats: ' "$1" 2>/dev/null | tail -n 1
    fi
}

# stat_of NAME LINE: the value of counter NAME in the stats line LINE (empty if absent).
stat_of() {
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# statval NAME LOG [PID]: the value of counter NAME on LOG's last stats line (of PID).
statval() {
    stat_of "$1" "$(stats_line "$2" "${3:-}")"
}

# sign_rate OUT: the sign/s figure of `openssl speed rsa2048` in OUT (empty if none). From the -mr
# result line (+F2:index:bits:sign/s:verify/s) when there is one: the human table changes between
# OpenSSL versions (3.5 has four time columns). Otherwise from the human line: the first figure after
# "bits" that is not a time (times end in "s").
sign_rate() {
    awk -F: '$1 == "+F2" && $3 == "2048" { printf "%.1f\n", $4; found = 1; exit }
             END { exit !found }' "$1" 2>/dev/null \
        || awk '$1 == "rsa" && $2 == "2048" && $3 == "bits" {
                    for (i = 4; i <= NF; i++) if ($i !~ /s$/) { print $i; exit } }' "$1"
}

# curl_check BODY NAME PORT KIND TLS-VERSION [CURL-ARGS]: one request to https://localhost:PORT/,
# certificate and host name verified against ca.crt (make_certs), that must get BODY over TLS-VERSION
# from the KIND certificate; curl's trace is in NAME.out.
curl_check() {
    _body=$1 _name=$2 _port=$3 _kind=$4 _version=$5
    shift 5
    curl -sS -v --max-time 20 --cacert ca.crt --resolve "localhost:$_port:127.0.0.1" "$@" \
        "https://localhost:$_port/" >"$_name.body" 2>"$_name.out" || fail "curl $_name exited $?"
    [ "$(cat "$_name.body")" = "$_body" ] || fail "curl $_name: unexpected body"
    grep -q "SSL connection using $_version" "$_name.out" || fail "curl $_name: not $_version"
    grep -q "subject: O=uringprov-test-$_kind" "$_name.out" \
        || fail "curl $_name: not the $_kind certificate"
}

# h2load_check NAME PORT REQUESTS CLIENTS: h2load over HTTP/1.1 to 127.0.0.1:PORT, REQUESTS
# requests, CLIENTS at a time; every one must succeed. Its output is in NAME.out.
h2load_check() {
    timeout 300 h2load --h1 -n "$3" -c "$4" -t 1 "https://127.0.0.1:$2/" >"$1.out" 2>&1 \
        || fail "h2load $1 exited $?"
    grep -q "^requests: $3 total, $3 started, $3 done, $3 succeeded, 0 failed, 0 errored" "$1.out" \
        || fail "h2load $1: $(grep '^requests:' "$1.out")"
}
