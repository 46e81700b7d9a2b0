# Shared by the Node-based suites (tests/node, tests/browser, clients/js):
# sourced after the suite has defined its own `say` and `die`.

# npm ci in DIR, only when its package.json or package-lock.json changed
# since the last install (a stamp file in DIR/node_modules).
# Usage: npm_ci_once DIR
npm_ci_once() {
    local dir=$1 stamp want
    stamp=$dir/node_modules/.otc-installed.sha256
    want=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
        say "installing the packages of package-lock.json into $dir/node_modules"
        (cd "$dir" && timeout 900 npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
        echo "$want" >"$stamp"
    fi
}

# Runs `node --test` in DIR on the given arguments and files (spec report on
# stdout, a TAP copy in TAP to count what ran), within SECONDS; dies when it
# fails, times out, or no test ran, and says how many passed.
# Usage: run_node_tests DIR TAP SECONDS [node --test arguments and files...]
run_node_tests() {
    local dir=$1 tap=$2 secs=$3 rc tests pass skipped
    shift 3
    rm -f "$tap"
    set +e
    (cd "$dir" && timeout "$secs" node --test \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap" \
        "$@")
    rc=$?
    set -e
    tests=$(tap_count tests "$tap")
    pass=$(tap_count pass "$tap")
    skipped=$(tap_count skipped "$tap")
    case $rc in
    0) ;;
    124) die "the suite did not finish within $secs s" ;;
    *) die "node --test failed (exit $rc; ${pass:-0} of ${tests:-0} tests passed)" ;;
    esac
    # (Tests left out by --test-name-pattern count as skipped.)
    [ "${pass:-0}" -gt 0 ] || die "no test ran (${tests:-0} found, ${skipped:-0} skipped)"
    if [ "${skipped:-0}" -gt 0 ]; then
        say "$pass of $tests tests passed ($skipped skipped)"
    else
        say "all $pass tests passed"
    fi
}

# The last `# NAME N` summary line of a TAP file.
tap_count() {
    sed -n "s/^# $1 \([0-9][0-9]*\)$/\1/p" "$2" 2>/dev/null | tail -n 1
}
