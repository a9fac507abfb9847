#!/usr/bin/env bash
# Run the workspace tests against real PostgreSQL and Redis servers.
#
# Usage: scripts/test.sh [RUNNER_ARGS...]
#
# The runner is `cargo nextest run --workspace --no-fail-fast` when cargo-nextest is installed,
# else `cargo test --workspace`. RUNNER_ARGS go to it unchanged, so a filter takes the runner's
# own syntax:
#   scripts/test.sh -E 'test(postgres)'    # cargo-nextest
#   scripts/test.sh postgres               # cargo test
#
# Environment:
#   HOSTVIEW_TEST_DATABASE_URL  PostgreSQL URL for the tests. When unset, the shared server on
#                               127.0.0.1:5432 if it accepts user postgres without a password,
#                               else a throwaway server that is deleted when the tests end.
#   HOSTVIEW_TEST_REDIS_URL     Redis URL for the tests. When unset, the shared server on
#                               127.0.0.1:6379 if it replies to PING, else a throwaway server.
#   HOSTVIEW_TEST_THROWAWAY=1   Start throwaway servers in place of the shared ones. URLs that are
#                               already set are still used.
#   HOSTVIEW_SHARED_DATA        Folder of real uploads that some tests read. Defaults to
#                               ../shared/data beside the repository when that folder exists.
# When a throwaway server is needed and its programs are missing, they are installed with apt-get,
# which needs root.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# shellcheck source=scripts/services.sh
source scripts/services.sh

# shellcheck source=scripts/prerequisites.sh
source scripts/prerequisites.sh
prerequisites_check

if [ -z "${HOSTVIEW_SHARED_DATA:-}" ] && [ -d "$repo_root/../shared/data" ]; then
    HOSTVIEW_SHARED_DATA=$(cd "$repo_root/../shared/data" && pwd)
    export HOSTVIEW_SHARED_DATA
fi

if [ -z "${HOSTVIEW_SHARED_DATA:-}" ]; then
    echo "note: ../shared/data not found beside the repository, so the tests that import the real uploads print SKIPPED and check nothing (set HOSTVIEW_SHARED_DATA to run them)" >&2
fi

if cargo nextest --version >/dev/null 2>&1; then
    runner=(cargo nextest run --workspace --no-fail-fast)
else
    echo "cargo-nextest not installed, so the tests run with cargo test" >&2
    runner=(cargo test --workspace)
fi

services_setup

status=0
"${runner[@]}" "$@" || status=$?
exit "$status"
