//! Writes the synthetic example upload tree that the repository keeps under `examples/uploads`.
//!
//! The output is byte-for-byte reproducible, so regenerating the committed tree leaves git
//! clean unless the generator or the bundled SQLite version changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use hostview_testdata::{
    Expected, crashed_session, full_session, old_schema_session, upload_path, write_7z, write_gzip,
    write_zip,
};

const USAGE: &str = "\
Usage: hostview-gen-examples --out DIR

Writes a small synthetic Hostview upload tree to
DIR/incoming/<device>/<version>/<ISO year>/<ISO week>/.
Existing files with the same names are overwritten. Other files in DIR are left alone.

Options:
  --out DIR   output directory, for example examples/uploads
  -h, --help  print this help";

/// Client version folder of every example upload.
const VERSION: &str = "2.1.3";

const DEVICE_1: &str = "EXAMPLE-0000-4000-8000-000000000001";
const DEVICE_2: &str = "EXAMPLE-0000-4000-8000-000000000002";
const DEVICE_3: &str = "EXAMPLE-0000-4000-8000-000000000003";

/// 2016-07-18T08:15:00.250Z, ISO week 2016-W29.
const FULL_SESSION_MS: i64 = 1_468_829_700_250;
/// 2016-07-20T13:40:07.125Z, ISO week 2016-W29.
const CRASHED_SESSION_MS: i64 = 1_469_022_007_125;
/// 2016-01-01T09:30:00.000Z, a Friday in ISO week 2015-W53.
const OLD_SCHEMA_SESSION_MS: i64 = 1_451_640_600_000;
/// 2017-01-09T07:05:30.500Z, ISO week 2017-W2.
const GZIP_SESSION_MS: i64 = 1_483_945_530_500;

fn main() -> ExitCode {
    let out = match parse_args(std::env::args().skip(1)) {
        Ok(Some(out)) => out,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("error: {error:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    match run(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns the output directory, or `None` when help was requested.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<PathBuf>> {
    let mut out = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--out" => {
                let Some(value) = args.next() else {
                    bail!("--out requires a directory");
                };
                out = Some(PathBuf::from(value));
            }
            other => {
                if let Some(value) = other.strip_prefix("--out=") {
                    out = Some(PathBuf::from(value));
                } else {
                    bail!("unknown argument {other:?}");
                }
            }
        }
    }
    match out {
        Some(out) => Ok(Some(out)),
        None => bail!("missing --out DIR"),
    }
}

fn run(out: &Path) -> Result<()> {
    let work = std::env::temp_dir().join(format!("hostview-gen-examples-{}", std::process::id()));
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("failed to remove stale work directory {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)
        .with_context(|| format!("failed to create work directory {}", work.display()))?;

    let result = write_examples(&out.join("incoming"), &work);
    let cleanup = std::fs::remove_dir_all(&work);
    result?;
    cleanup.with_context(|| format!("failed to remove work directory {}", work.display()))?;
    Ok(())
}

/// Writes every example upload below `incoming`, building the databases in `work`.
fn write_examples(incoming: &Path, work: &Path) -> Result<()> {
    // A full session compressed with 7z/LZMA and named .zip, as the Windows client uploads it.
    let (db, expected) = build(work, FULL_SESSION_MS, full_session)?;
    let dest = upload_path(
        incoming,
        DEVICE_1,
        VERSION,
        FULL_SESSION_MS,
        &format!("{FULL_SESSION_MS}_stats.db.zip"),
    )?;
    write_7z(&db, &dest, &db_name(FULL_SESSION_MS))?;
    report(&dest, &expected);

    // A crashed session in a genuine deflate zip archive.
    let (db, expected) = build(work, CRASHED_SESSION_MS, crashed_session)?;
    let dest = upload_path(
        incoming,
        DEVICE_1,
        VERSION,
        CRASHED_SESSION_MS,
        &format!("{CRASHED_SESSION_MS}_stats.db.zip"),
    )?;
    write_zip(&db, &dest, &db_name(CRASHED_SESSION_MS))?;
    report(&dest, &expected);

    // An old-schema session, uploaded uncompressed.
    let (db, expected) = build(work, OLD_SCHEMA_SESSION_MS, old_schema_session)?;
    let dest = upload_path(
        incoming,
        DEVICE_2,
        VERSION,
        OLD_SCHEMA_SESSION_MS,
        &db_name(OLD_SCHEMA_SESSION_MS),
    )?;
    std::fs::copy(&db, &dest)
        .with_context(|| format!("failed to copy {} to {}", db.display(), dest.display()))?;
    report(&dest, &expected);

    // A full session compressed with gzip.
    let (db, expected) = build(work, GZIP_SESSION_MS, full_session)?;
    let dest = upload_path(
        incoming,
        DEVICE_3,
        VERSION,
        GZIP_SESSION_MS,
        &format!("{GZIP_SESSION_MS}_stats.db.gz"),
    )?;
    write_gzip(&db, &dest)?;
    report(&dest, &expected);

    // A file of a kind that no importer parser handles.
    let dest = upload_path(
        incoming,
        DEVICE_3,
        VERSION,
        GZIP_SESSION_MS,
        &format!("{GZIP_SESSION_MS}_notes.txt"),
    )?;
    std::fs::write(
        &dest,
        "Synthetic example upload of a file kind that Hostview Processing does not parse.\n",
    )
    .with_context(|| format!("failed to write {}", dest.display()))?;
    println!("{}", dest.display());
    Ok(())
}

fn db_name(session_ms: i64) -> String {
    format!("{session_ms}_stats.db")
}

/// Writes one canned session to `work` and returns its path and contents.
fn build(
    work: &Path,
    session_ms: i64,
    write_session: fn(&Path, i64) -> Result<Expected>,
) -> Result<(PathBuf, Expected)> {
    let db = work.join(db_name(session_ms));
    let expected = write_session(&db, session_ms)?;
    Ok((db, expected))
}

fn report(dest: &Path, expected: &Expected) {
    let rows: u64 = expected.source_rows.values().sum();
    println!("{} ({rows} client rows)", dest.display());
}
