#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for SECONDS each.
#
# Usage: scripts/fuzz.sh SECONDS [TARGET...]
#
# Needs the nightly toolchain (`cargo +nightly`); installs cargo-fuzz from
# crates.io when it is missing (`cargo install cargo-fuzz --locked`, about
# 35 s on 2 cores). Every target runs on a temporary copy of its seeds
# (fuzz/corpus/<target>/), so the committed corpus stays as it is; set
# FUZZ_CORPUS_DIR=DIR to keep the grown corpora in DIR/<target> instead.
# Fails when any target crashes, panics, times out or runs out of memory,
# and prints the path of the input that did it (under fuzz/artifacts/).
#
# Targets run side by side, one per core (FUZZ_JOBS). Other settings:
# FUZZ_SANITIZER (address|none, default none: the code under test is safe
# Rust, so ASan would mostly slow the build and the run), FUZZ_RSS_MB
# (2048), FUZZ_TIMEOUT (10 s for one input), FUZZ_MAX_LEN (16384 bytes).
set -uo pipefail
cd "$(dirname "$0")/.."

die() {
    echo "fuzz: $*" >&2
    exit 1
}

seconds=${1:-}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "usage: scripts/fuzz.sh SECONDS [TARGET...]"
shift

sanitizer=${FUZZ_SANITIZER:-none}
rss_mb=${FUZZ_RSS_MB:-2048}
timeout=${FUZZ_TIMEOUT:-10}
max_len=${FUZZ_MAX_LEN:-16384}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

if ! cargo +nightly --version >/dev/null 2>&1; then
    die "the nightly Rust toolchain is not installed (cargo +nightly fails); cargo-fuzz needs it: rustup toolchain install nightly"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked, about 35 s)"
    start=$SECONDS
    cargo install cargo-fuzz --locked --quiet || die "could not install cargo-fuzz"
    echo "fuzz: cargo-fuzz installed in $((SECONDS - start)) s"
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
[ ${#targets[@]} -gt 0 ] || die "no fuzz targets found"

# 16 codegen units instead of cargo-fuzz's 1: a third less build time on 2
# cores for a small loss of speed in the run.
build_flags=(--sanitizer "$sanitizer" --debug-assertions --codegen-units 16)
echo "fuzz: building ${#targets[@]} targets (sanitizer $sanitizer)"
start=$SECONDS
cargo +nightly fuzz build "${build_flags[@]}" || die "the fuzz targets do not build"
echo "fuzz: built in $((SECONDS - start)) s"

if [ -n "${FUZZ_CORPUS_DIR:-}" ]; then
    work=$FUZZ_CORPUS_DIR
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/otc-fuzz.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi

# One target: fuzz it, then write its report (and its exit status) to
# $work/$t.report and $work/$t.rc, printed in order once all have run.
fuzz_one() {
    local t=$1 corpus=$work/$1 artifacts=fuzz/artifacts/$1 log=$work/$1.log
    local report=$work/$1.report before rc runs new f
    mkdir -p "$corpus" "$artifacts"
    if [ -d "fuzz/corpus/$t" ]; then
        cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    fi
    before=$(ls "$artifacts")
    cargo +nightly fuzz run "${build_flags[@]}" "$t" "$corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$timeout" \
        -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        >"$log" 2>&1
    rc=$?
    echo $rc >"$work/$t.rc"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "fuzz: $t ok: ${runs:-?} inputs in $seconds s, corpus of $(ls "$corpus" | wc -l)" >"$report"
        return
    fi
    {
        echo "fuzz: $t FAILED (exit $rc); the end of its log:"
        tail -n 40 "$log"
        new=$(comm -13 <(echo "$before") <(ls "$artifacts"))
        if [ -n "$new" ]; then
            for f in $new; do
                echo "fuzz: $t: input that failed: $artifacts/$f"
                echo "fuzz:   replay: cargo +nightly fuzz run ${build_flags[*]} $t $artifacts/$f"
            done
        else
            echo "fuzz: $t: no crash input was written (see the log above)"
        fi
    } >"$report"
}

echo "fuzz: running ${#targets[@]} targets for $seconds s each, $jobs at a time"
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    fuzz_one "$t" &
done
wait

passed=0
failed=()
for t in "${targets[@]}"; do
    if [ "$(cat "$work/$t.rc" 2>/dev/null)" = 0 ]; then
        cat "$work/$t.report"
        passed=$((passed + 1))
    else
        cat "$work/$t.report" >&2 2>/dev/null || echo "fuzz: $t did not run" >&2
        failed+=("$t")
    fi
done

echo "fuzz: ${passed} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ] || die "failed: ${failed[*]}"
