//! Runs the `hostview-gen-examples` binary as a user would.

use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_hostview-gen-examples");

/// Returns every file below `root` as (path relative to `root`, content), sorted by path.
fn read_tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                files.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn generate(out: &Path) {
    let output = Command::new(BINARY).arg("--out").arg(out).output().unwrap();
    assert!(
        output.status.success(),
        "generator failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generator_output_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let second = dir.path().join("second");

    generate(&first);
    generate(&second);

    let first_files = read_tree(&first);
    let second_files = read_tree(&second);
    let first_names: Vec<&PathBuf> = first_files.iter().map(|(path, _)| path).collect();
    let second_names: Vec<&PathBuf> = second_files.iter().map(|(path, _)| path).collect();
    assert_eq!(first_names, second_names);
    for ((path, first_bytes), (_, second_bytes)) in first_files.iter().zip(&second_files) {
        assert!(
            first_bytes == second_bytes,
            "{} differs between runs",
            path.display()
        );
    }
}

#[test]
fn generator_writes_expected_tree() {
    let dir = tempfile::tempdir().unwrap();

    generate(dir.path());

    let files = read_tree(dir.path());
    let names: Vec<String> = files
        .iter()
        .map(|(path, _)| path.to_string_lossy().replace('\\', "/"))
        .collect();
    let device = |n: u32| format!("incoming/EXAMPLE-0000-4000-8000-00000000000{n}/2.1.3");
    assert_eq!(
        names,
        vec![
            format!("{}/2016/29/1468829700250_stats.db.zip", device(1)),
            format!("{}/2016/29/1469022007125_stats.db.zip", device(1)),
            format!("{}/2015/53/1451640600000_stats.db", device(2)),
            format!("{}/2017/2/1483945530500_notes.txt", device(3)),
            format!("{}/2017/2/1483945530500_stats.db.gz", device(3)),
        ]
    );

    let magic: Vec<&[u8]> = files.iter().map(|(_, bytes)| &bytes[..2]).collect();
    assert_eq!(magic[0], b"7z");
    assert_eq!(magic[1], b"PK");
    assert_eq!(magic[2], b"SQ");
    assert_eq!(magic[4], b"\x1f\x8b");
    let total: usize = files.iter().map(|(_, bytes)| bytes.len()).sum();
    assert!(total < 200 * 1024, "example tree has {total} bytes");
}

#[test]
fn generator_rejects_missing_out() {
    let output = Command::new(BINARY).output().unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing --out DIR"), "{stderr}");
}

#[test]
fn generator_rejects_unknown_argument() {
    let output = Command::new(BINARY).arg("--bogus").output().unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown argument \"--bogus\""), "{stderr}");
}

#[test]
fn generator_matches_committed_examples() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/uploads");
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("uploads");

    generate(&fresh);

    let committed_files = read_tree(&committed);
    let fresh_files = read_tree(&fresh);
    let committed_names: Vec<&PathBuf> = committed_files.iter().map(|(path, _)| path).collect();
    let fresh_names: Vec<&PathBuf> = fresh_files.iter().map(|(path, _)| path).collect();
    assert_eq!(
        committed_names, fresh_names,
        "regenerate examples/uploads: see examples/README.md"
    );
    for ((path, committed_bytes), (_, fresh_bytes)) in committed_files.iter().zip(&fresh_files) {
        assert!(
            committed_bytes == fresh_bytes,
            "examples/uploads/{} is stale: regenerate it as examples/README.md says",
            path.display()
        );
    }
}
