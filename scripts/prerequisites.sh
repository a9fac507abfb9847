# shellcheck shell=bash
# Checks for the build tools that every script needs; sourced by test.sh and example.sh.
#
# cargo must come from rustup (Rust 1.94 or newer): Debian's own packages are too old for
# edition 2024. rusqlite builds its bundled SQLite library with a C compiler. When none is found
# and the script runs as root, gcc is installed with apt-get.

prerequisites_check() {
    if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME:-}/.cargo/bin/cargo" ]; then
        PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: cargo not found on PATH; install the Rust toolchain with rustup (Rust 1.94 or newer) and re-run" >&2
        return 1
    fi
    if ! command -v cc >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "installing gcc, needed to build the bundled SQLite library" >&2
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
        else
            echo "error: no C compiler (cc) found; install gcc, needed to build the bundled SQLite library" >&2
            return 1
        fi
    fi
}
