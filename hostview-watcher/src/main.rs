//! Watches `<data>/incoming/` and queues one `ProcessFile` job per completely written file.
//!
//! NOTE: not implemented yet; `hostview-worker --batch` processes an upload folder without a queue.

fn main() {
    eprintln!(
        "hostview-watcher is not implemented yet; use `hostview-worker --batch --data-dir DIR`"
    );
    std::process::exit(1);
}
