#!/usr/bin/env bash
# Run the main job, hostview-worker in batch mode, on the example uploads in examples/uploads.
#
# Usage: scripts/example.sh [WORKER_ARGS...]
#
# Builds hostview-worker in release mode, copies examples/uploads to scratch/example-run (deleted
# and copied again on every run, with file times kept) and runs
#   target/release/hostview-worker --batch --data-dir scratch/example-run [WORKER_ARGS...]
# The worker writes its SQLite output to scratch/example-run/hostview.sqlite. Only scratch/ and
# the build output change, and git ignores both. HOSTVIEW_DATABASE_URL, HOSTVIEW_REDIS_URL and
# HOSTVIEW_DATA_DIR are removed from the worker's environment so that the run stays in scratch/.
# Exits with the worker's exit code.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

uploads_dir=examples/uploads
run_dir=scratch/example-run
worker=${CARGO_TARGET_DIR:-target}/release/hostview-worker

if [ ! -d "$uploads_dir" ]; then
    echo "error: example uploads not found at $repo_root/$uploads_dir; regenerate them from $repo_root with: cargo run --package hostview-testdata --bin hostview-gen-examples -- --out $uploads_dir" >&2
    exit 1
fi
# shellcheck source=scripts/prerequisites.sh
source scripts/prerequisites.sh
prerequisites_check

cargo build --locked --release --package hostview-worker

rm -rf "$run_dir"
mkdir -p "$(dirname "$run_dir")"
cp -a "$uploads_dir" "$run_dir"

status=0
env -u HOSTVIEW_DATABASE_URL -u HOSTVIEW_REDIS_URL -u HOSTVIEW_DATA_DIR \
    "$worker" --batch --data-dir "$run_dir" "$@" || status=$?

output="$repo_root/$run_dir/hostview.sqlite"
if [ -f "$output" ]; then
    echo "SQLite output: $output" >&2
    if command -v sqlite3 >/dev/null 2>&1; then
        echo "Try: sqlite3 $output 'select status, count(*) from files group by status'" >&2
    fi
else
    echo "no SQLite output at $output" >&2
fi
exit "$status"
