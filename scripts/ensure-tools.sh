#!/usr/bin/env bash
# Installs the system tools `make test` needs when they are missing:
#   pkg-config   the C tests build through `pkg-config --cflags --libs libopentok`
#   valgrind     one C test runs under memcheck
#   python3-venv the Python suite (official OpenTok server SDK) makes a venv
#   cmake, clang, libc++-dev, libc++abi-dev
#                the SDK-style suite (scripts/sdk-style-tests.sh) builds a
#                program the way the Vonage Linux SDK samples are built:
#                CMake, clang++ -std=c++14 -stdlib=libc++
#   tinyproxy    the library's proxy tests (tests/http_proxy.rs) run a real
#                HTTP forward proxy; they fail, saying to run this script,
#                when it is missing
#   redis-server the cluster tests (server/tests/cluster.rs, it_cluster.rs,
#                scripts/cluster-tests.sh) and `make demo CLUSTER=1` run a
#                real Redis on a loopback port (Valkey's valkey-server does
#                as well)
#   nodejs, npm  the Node suites (tests/node: the official server SDK;
#                clients/js: the JavaScript client), when node is missing
#   chromium     the browser suite (tests/browser/run.sh): Debian's headless
#                chromium at /usr/bin/chromium, driven by puppeteer-core
#   mono-mcs, mono-runtime
#                the C# binding's suite (bindings/csharp/run-tests.sh)
#                compiles with Mono's mcs and runs with mono; with
#                --no-install-recommends they pull in just the class
#                libraries it uses (System, System.Core ...), no NuGet
# Uses apt-get when it is available and we may use it (root, or sudo without
# a password); otherwise it says what is missing and leaves the decision to
# the suites (the C suite fails clearly without pkg-config and skips, loudly,
# the valgrind run without valgrind).
set -uo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
# Debian installs it in /usr/bin; look in sbin too (not on every PATH).
{ command -v tinyproxy || [ -x /usr/sbin/tinyproxy ]; } >/dev/null 2>&1 || missing+=(tinyproxy)
command -v clang++ >/dev/null 2>&1 || missing+=(clang)
{ command -v redis-server || command -v valkey-server || [ -x /usr/bin/redis-server ]; } >/dev/null 2>&1 ||
    missing+=(redis-server)
{ command -v node && command -v npm; } >/dev/null 2>&1 || missing+=(nodejs npm)
# puppeteer-core is told exactly this path (tests/browser/harness.mjs).
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v mcs >/dev/null 2>&1 || missing+=(mono-mcs)
command -v mono >/dev/null 2>&1 || missing+=(mono-runtime)
# libc++ is there when clang++ can compile and link a program against it.
libcxx_works() {
    command -v clang++ >/dev/null 2>&1 || return 1
    local dir rc
    dir=$(mktemp -d) || return 1
    printf '#include <string>\nint main() { std::string s("ok"); return s.size() == 2 ? 0 : 1; }\n' >"$dir/t.cpp"
    timeout 120 clang++ -std=c++14 -stdlib=libc++ "$dir/t.cpp" -o "$dir/t" >/dev/null 2>&1 && timeout 10 "$dir/t"
    rc=$?
    rm -rf "$dir"
    return $rc
}
libcxx_works || missing+=(libc++-dev libc++abi-dev)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "ensure-tools: missing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "ensure-tools: not root and no password-less sudo; install them yourself:" >&2
        echo "    apt-get install -y ${missing[*]}" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: no apt-get here; please install: ${missing[*]}" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
timeout 600 $SUDO apt-get update -q >/dev/null &&
    timeout 900 $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    echo "ensure-tools: apt-get could not install ${missing[*]}" >&2
exit 0
