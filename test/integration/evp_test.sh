#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# evp_test.sh - OpenSSL's own test vectors through uringprov: evp_test, built by test/evp/build.sh
# from the source of the OpenSSL under test (its vectors follow that release's behaviour: 3.2's
# implicit rejection, 4.0's explicit curves), runs the evppkey_* files below in four passes:
#   default   the default provider alone (OpenSSL's evp_test as shipped): the baseline;
#   inline    uringprov preferred (default_properties = ?provider=uringprov), synchronously;
#   offload   the same with sync_mode = offload and offload = all: every operation on a worker;
#   async     each test's operation inside an ASYNC job, offload = all (test/evp/uo_evp_test.c).
# The last three run test/evp/uo_evp_test.c's build of evp_test, which adds checks (see there).
#
# Each uringprov pass must pass, in every file, every test the baseline passes, with the same number
# run and skipped, and:
# - no FALLBACK: no operation ran on the default provider when uringprov offers its algorithm (a
#   vector that the default provider passed would prove nothing about uringprov);
# - uringprov's own counters (the debug log's "stats:" line at unload) show the mode at work: inline
#   runs and nothing offloaded when synchronous-inline; offloaded and no inline runs otherwise;
# - async: every test ran in a job, no test that uringprov ran succeeded without pausing its job,
#   and uringprov counted at least one pause per offloaded request.
# The table at the end gives, per file and pass, tests passed / run (skipped), and for the uringprov
# passes how many checked operations uringprov ran ("up=").
#
# Exit 77 (skip) only when the source package cannot be downloaded (build.sh says why).
set -eu

cd "$(dirname "$0")/../.."
root=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac

FILES="evppkey_rsa_common.txt evppkey_ecdsa.txt evppkey_ecdh.txt evppkey_ecx.txt evppkey_ecc.txt
       evppkey_kas.txt evppkey_mismatch.txt"
PASSES="default inline offload async"

[ -f "$BUILD/uringprov.so" ] || { echo "FAIL: $BUILD/uringprov.so not built"; exit 1; }

rc=0
BUILD=$BUILD sh test/evp/build.sh || rc=$?
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "FAIL: test/evp/build.sh exited $rc"; exit 1; }
evp=$BUILD/evp/current
# OpenSSL 3.5 and later: the post-quantum vectors (ACVP and Wycheproof), where the release has them.
# SLH-DSA's signature generation file is left out: its slow parameter sets take minutes per pass.
for f in evppkey_ml_kem_512_keygen.txt evppkey_ml_kem_512_encap.txt evppkey_ml_kem_512_decap.txt \
         evppkey_ml_kem_768_keygen.txt evppkey_ml_kem_768_encap.txt evppkey_ml_kem_768_decap.txt \
         evppkey_ml_kem_1024_keygen.txt evppkey_ml_kem_1024_encap.txt \
         evppkey_ml_kem_1024_decap.txt evppkey_ml_kem_encap_decap.txt evppkey_ml_kem_keygen.txt \
         evppkey_ml_dsa_keygen.txt evppkey_ml_dsa_siggen.txt evppkey_ml_dsa_sigver.txt \
         evppkey_ml_dsa_44_wycheproof_sign.txt evppkey_ml_dsa_44_wycheproof_verify.txt \
         evppkey_ml_dsa_65_wycheproof_sign.txt evppkey_ml_dsa_65_wycheproof_verify.txt \
         evppkey_ml_dsa_87_wycheproof_sign.txt evppkey_ml_dsa_87_wycheproof_verify.txt \
         evppkey_slh_dsa_keygen.txt evppkey_slh_dsa_sigver.txt; do
    [ -f "$evp/data/$f" ] && FILES="$FILES $f"
done

tmp=$(mktemp -d)
problems=$tmp/problems
: >"$problems"
on_exit() {
    code=$?
    rm -rf "$tmp"
    exit "$code"
}
trap on_exit EXIT

problem() {
    echo "  PROBLEM: $*"
    echo "$*" >>"$problems"
}

# field NAME FILE: the value of NAME= on FILE's last line that has it (empty if none).
field() {
    grep -o "[ :]$1=[0-9]*" "$2" 2>/dev/null | tail -n 1 | sed 's/.*=//'
}

# run PASS FILE: runs one data file; leaves $tmp/PASS-FILE.out and .log.
run() {
    pass=$1 file=$2
    out=$tmp/$pass-$file.out log=$tmp/$pass-$file.log
    case $pass in
        default) set -- "$evp/evp_test" -config "$root/test/evp/default.cnf" ;;
        *) set -- "$evp/evp_test_uo" -config "$root/test/evp/uringprov-$pass.cnf" ;;
    esac
    jobs=0
    [ "$pass" = async ] && jobs=1
    code=0
    (cd "$evp/data" && env OPENSSL_MODULES="$BUILD" URINGPROV_DEBUG="file:$log,level:1" \
        UO_EVP_JOBS=$jobs timeout 300 "$@" "$file") >"$out" 2>&1 </dev/null || code=$?
    echo "$code" >"$tmp/$pass-$file.rc"
}

# counts PASS FILE: "N E S" from evp_test's "Completed N tests with E errors and S skipped".
counts() {
    n='\([0-9]*\)'
    sed -n "s/.*Completed $n tests with $n errors and $n skipped.*/\\1 \\2 \\3/p" "$tmp/$1-$2.out" \
        | tail -n 1
}

for pass in $PASSES; do
    echo "-- pass $pass"
    for file in $FILES; do
        run "$pass" "$file"
    done
done

# Checks, file by file, against the baseline.
for file in $FILES; do
    set -- $(counts default "$file")
    if [ $# -ne 3 ] || [ "$(cat "$tmp/default-$file.rc")" != 0 ] || [ "$2" != 0 ]; then
        echo "---- default $file"
        tail -n 30 "$tmp/default-$file.out"
        problem "default $file: the baseline fails (evp_test exited" \
            "$(cat "$tmp/default-$file.rc")): evp_test does not match this libcrypto"
        continue
    fi
    bn=$1 bs=$3
    for pass in inline offload async; do
        out=$tmp/$pass-$file.out
        code=$(cat "$tmp/$pass-$file.rc")
        set -- $(counts "$pass" "$file")
        bad=""
        if [ $# -ne 3 ]; then
            bad="evp_test exited $code without finishing the file"
        elif [ "$code" != 0 ] || [ "$2" != 0 ]; then
            bad="$2 of $1 tests failed (evp_test exited $code)"
        elif [ "$1" != "$bn" ] || [ "$3" != "$bs" ]; then
            bad="ran $1 tests, skipped $3; the baseline ran $bn, skipped $bs"
        fi
        fb=$(field fallbacks "$out")
        [ -n "$fb" ] || bad="${bad:+$bad; }no uo-evp summary line"
        [ "${fb:-0}" = 0 ] || bad="${bad:+$bad; }$fb operations fell back to the default provider"
        je=$(field job_errors "$out")
        [ "${je:-0}" = 0 ] || bad="${bad:+$bad; }$je ASYNC jobs could not run"
        if [ "$pass" = async ]; then
            np=$(field no_pause "$out")
            [ "${np:-0}" = 0 ] || bad="${bad:+$bad; }$np tests ran by uringprov without a pause"
            [ "$(field jobs "$out")" = "$(field tests "$out")" ] \
                || bad="${bad:+$bad; }not every test ran in a job"
        fi
        if [ -n "$bad" ]; then
            echo "---- $pass $file"
            grep -E 'uo-evp: [A-Z]|error|Expected|Succeeded|got' "$out" | head -n 40 || true
            problem "$pass $file: $bad"
        fi
    done
done

# uringprov's own counters, summed over the files of each pass.
sum() {
    total=0
    for file in $FILES; do
        v=$(grep ' stats: ' "$tmp/$1-$file.log" 2>/dev/null | tail -n 1 | tr ' ' '\n' \
            | sed -n "s/^$2=//p")
        [ -n "$v" ] || { echo "-"; return; }
        total=$((total + v))
    done
    echo "$total"
}
for pass in inline offload async; do
    off=$(sum "$pass" offloaded) inl=$(sum "$pass" inline) pau=$(sum "$pass" pauses)
    qfb=$(sum "$pass" fallbacks)
    echo "   uringprov $pass: offloaded=$off inline=$inl pauses=$pau fallbacks=$qfb"
    if [ "$off" = - ]; then
        problem "$pass: a run's debug log has no stats line: uringprov never loaded or unloaded"
        continue
    fi
    [ "$qfb" = 0 ] || problem "$pass: $qfb requests wanted a worker but ran inline"
    case $pass in
        inline)
            [ "$inl" -gt 0 ] || problem "inline: uringprov computed nothing"
            [ "$off" = 0 ] || problem "inline: $off requests were offloaded outside any job" ;;
        offload)
            [ "$off" -gt 0 ] || problem "offload: nothing was offloaded"
            [ "$inl" = 0 ] || problem "offload: $inl requests ran inline" ;;
        async)
            [ "$off" -gt 0 ] || problem "async: nothing was offloaded"
            [ "$inl" = 0 ] || problem "async: $inl requests ran inline"
            [ "$pau" -ge "$off" ] || problem "async: pauses=$pau < offloaded=$off" ;;
    esac
done

# The table: passed/run (skipped) per file and pass; up= operations uringprov ran; for async, the
# jobs that paused.
printf '%-24s %-16s %-24s %-24s %s\n' file default inline offload async
for file in $FILES; do
    line=$(printf '%-24s' "$file")
    for pass in $PASSES; do
        set -- $(counts "$pass" "$file")
        if [ $# -eq 3 ]; then
            cell="$(($1 - $2 - $3))/$(($1 - $3)) ($3)"
        else
            cell="crashed"
        fi
        if [ "$pass" != default ]; then
            cell="$cell up=$(field by_uringprov "$tmp/$pass-$file.out")"
            [ "$pass" = async ] && cell="$cell paused=$(field paused_jobs "$tmp/$pass-$file.out")"
        fi
        case $pass in
            default) line="$line $(printf '%-16s' "$cell")" ;;
            async) line="$line $cell" ;;
            *) line="$line $(printf '%-24s' "$cell")" ;;
        esac
    done
    echo "$line"
done

if [ -s "$problems" ]; then
    echo "FAIL: evp_test: $(wc -l <"$problems") problems:"
    sed 's/^/  /' "$problems"
    exit 1
fi
echo "PASS: evp_test"
