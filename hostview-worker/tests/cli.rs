//! The `hostview-worker` binary in batch mode: exit codes, the printed summary and the output
//! database, as a user runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hostview_e2e::{Backend, TestEnv, copy_tree};
use hostview_testdata::{bad, full_session, upload_path, write_7z};

const DEVICE: &str = "CLI-0000-4000-8000-000000000001";
const VERSION: &str = "2.1.3";
/// 2016-07-18T08:15:00.250Z, ISO week 2016-W29.
const T: i64 = 1_468_829_700_250;
/// Session starts of the good uploads, one day apart.
const SESSIONS: [i64; 2] = [T, T + 86_400_000];

/// Environment variables that set worker options. Tests clear them so that only flags count.
const OPTION_VARIABLES: [&str; 9] = [
    "HOSTVIEW_DATA_DIR",
    "HOSTVIEW_DATABASE_URL",
    "HOSTVIEW_JOBS",
    "HOSTVIEW_MAX_DECOMPRESSED_BYTES",
    "HOSTVIEW_SETTLE_SECS",
    "HOSTVIEW_MAX_ATTEMPTS",
    "HOSTVIEW_RETRY_BACKOFF_MS",
    "HOSTVIEW_TEMP_DIR",
    "HOSTVIEW_LOG",
];

/// Exit code and text output of one worker run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs the worker with `args` and waits for it to exit.
fn run_worker(args: &[&str]) -> Result<Run> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hostview-worker"));
    for variable in OPTION_VARIABLES {
        command.env_remove(variable);
    }
    let started = Instant::now();
    let output = command
        .args(args)
        .output()
        .context("cannot start hostview-worker")?;
    Ok(Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    })
}

/// Runs `--batch --data-dir DIR --settle-secs 0` followed by `extra`.
fn run_batch(data_dir: &Path, extra: &[&str]) -> Result<Run> {
    let data_dir = data_dir.to_str().context("data directory is not UTF-8")?;
    let mut args = vec!["--batch", "--data-dir", data_dir, "--settle-secs", "0"];
    args.extend_from_slice(extra);
    run_worker(&args)
}

/// Writes one `full_session` upload per entry of [`SESSIONS`] below `incoming` and returns
/// their paths.
fn write_good_uploads(incoming: &Path, work: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for session_ms in SESSIONS {
        let db_name = format!("{session_ms}_stats.db");
        let db = work.join(&db_name);
        full_session(&db, session_ms)?;
        let path = upload_path(
            incoming,
            DEVICE,
            VERSION,
            session_ms,
            &format!("{db_name}.zip"),
        )?;
        write_7z(&db, &path, &db_name)?;
        paths.push(path);
    }
    Ok(paths)
}

/// Returns the path below `<data>/<folder>/` that an upload below `<data>/incoming/` moves to.
fn moved_path(data_dir: &Path, folder: &str, path: &Path) -> PathBuf {
    let relative = path
        .strip_prefix(data_dir.join("incoming"))
        .expect("upload is below incoming");
    data_dir.join(folder).join(relative)
}

#[test]
fn cli_good_uploads_exit_0() -> Result<()> {
    let env = TestEnv::new(Backend::Sqlite)?;
    let work = tempfile::tempdir()?;
    let uploads = write_good_uploads(&env.incoming(), work.path())?;

    let run = run_batch(env.data_dir(), &[])?;

    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("Processed 2 files"),
        "stdout: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  imported          2\n"),
        "stdout: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  failed            0\n"),
        "stdout: {}",
        run.stdout
    );
    assert!(
        env.data_dir().join("hostview.sqlite").is_file(),
        "default output database is missing"
    );
    assert_eq!(env.count("sessions")?, 2);
    assert_eq!(env.count("devices")?, 1);
    for upload in &uploads {
        let processed = moved_path(env.data_dir(), "processed", upload);
        assert!(processed.is_file(), "{} is missing", processed.display());
    }
    Ok(())
}

#[test]
fn cli_one_failure_exits_2() -> Result<()> {
    let env = TestEnv::new(Backend::Sqlite)?;
    let work = tempfile::tempdir()?;
    let uploads = write_good_uploads(&env.incoming(), work.path())?;
    let broken_ms = T + 2 * 86_400_000;
    let broken = upload_path(
        &env.incoming(),
        DEVICE,
        VERSION,
        broken_ms,
        &format!("{broken_ms}_stats.db"),
    )?;
    bad::not_a_database(&broken)?;

    let run = run_batch(env.data_dir(), &[])?;

    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("  imported          2\n"),
        "stdout: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  failed            1\n"),
        "stdout: {}",
        run.stdout
    );
    let relative = broken.strip_prefix(env.incoming())?;
    assert!(
        run.stdout
            .contains(&format!("FAILED {} (after 1 attempt)", relative.display())),
        "stdout: {}",
        run.stdout
    );
    assert_eq!(env.count("sessions")?, 2);
    assert!(moved_path(env.data_dir(), "failed", &broken).is_file());
    for upload in &uploads {
        assert!(moved_path(env.data_dir(), "processed", upload).is_file());
    }
    Ok(())
}

#[test]
fn cli_second_run_already_imported() -> Result<()> {
    let env = TestEnv::new(Backend::Sqlite)?;
    let work = tempfile::tempdir()?;
    write_good_uploads(&env.incoming(), work.path())?;
    let copy = work.path().join("incoming-copy");
    copy_tree(&env.incoming(), &copy)?;

    let first = run_batch(env.data_dir(), &[])?;
    assert_eq!(first.code, Some(0), "stderr: {}", first.stderr);
    copy_tree(&copy, &env.incoming())?;
    let second = run_batch(env.data_dir(), &[])?;

    assert_eq!(second.code, Some(0), "stderr: {}", second.stderr);
    assert!(
        second.stdout.contains("  already imported  2\n"),
        "stdout: {}",
        second.stdout
    );
    assert!(
        second.stdout.contains("  imported          0\n"),
        "stdout: {}",
        second.stdout
    );
    assert_eq!(env.count("sessions")?, 2);
    assert_eq!(env.count("files")?, 2);
    Ok(())
}

#[test]
fn cli_postgres_database_imports() -> Result<()> {
    let env = TestEnv::new(Backend::Postgres)?;
    let work = tempfile::tempdir()?;
    write_good_uploads(&env.incoming(), work.path())?;

    let run = run_batch(env.data_dir(), &["--database-url", &env.database_url])?;

    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("  imported          2\n"),
        "stdout: {}",
        run.stdout
    );
    assert_eq!(env.count("sessions")?, 2);
    assert_eq!(env.count("devices")?, 1);
    assert!(
        !env.data_dir().join("hostview.sqlite").exists(),
        "no SQLite output when a URL is given"
    );
    Ok(())
}

#[test]
fn cli_fresh_upload_left_in_incoming() -> Result<()> {
    let env = TestEnv::new(Backend::Sqlite)?;
    let work = tempfile::tempdir()?;
    let uploads = write_good_uploads(&env.incoming(), work.path())?;
    let data_dir = env
        .data_dir()
        .to_str()
        .context("data directory is not UTF-8")?;

    // The files were just written, so with the 5 s default settle time and a single attempt
    // they still count as uploading.
    let run = run_worker(&["--batch", "--data-dir", data_dir, "--max-attempts", "1"])?;

    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("  imported          0\n"),
        "stdout: {}",
        run.stdout
    );
    for upload in &uploads {
        let relative = upload.strip_prefix(env.incoming())?;
        assert!(
            run.stdout
                .contains(&format!("STILL UPLOADING {}", relative.display())),
            "stdout: {}",
            run.stdout
        );
        assert!(upload.is_file(), "{} left incoming", upload.display());
    }
    assert!(!env.data_dir().join("failed").exists());
    Ok(())
}

/// Maximum time the worker may take to report a database that refuses connections.
const REFUSED_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn cli_unreachable_database_exits_1() -> Result<()> {
    let data = tempfile::tempdir()?;
    let work = tempfile::tempdir()?;
    let uploads = write_good_uploads(&data.path().join("incoming"), work.path())?;

    // Port 1 on the loopback interface normally has no listener, so the connection is refused
    // at once.
    let run = run_batch(
        data.path(),
        &["--database-url", "postgres://postgres@127.0.0.1:1/x"],
    )?;

    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot connect to postgres://postgres@127.0.0.1:1/x"),
        "stderr: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    for upload in &uploads {
        assert!(upload.is_file(), "{} left incoming", upload.display());
    }
    assert!(!data.path().join("failed").exists());
    assert!(
        run.stderr.to_lowercase().contains("refused"),
        "the cause is missing from stderr: {}",
        run.stderr
    );
    assert!(
        run.elapsed < REFUSED_CONNECTION_TIMEOUT,
        "a refused connection took {:?} to report",
        run.elapsed
    );
    Ok(())
}

#[test]
fn cli_missing_incoming_exits_1() -> Result<()> {
    let data = tempfile::tempdir()?;

    let run = run_batch(data.path(), &[])?;

    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("incoming"),
        "stderr does not name incoming/: {}",
        run.stderr
    );
    assert!(
        !data.path().join("hostview.sqlite").exists(),
        "no output database without uploads"
    );
    Ok(())
}

#[test]
fn cli_without_batch_fails() -> Result<()> {
    let data = tempfile::tempdir()?;
    std::fs::create_dir(data.path().join("incoming"))?;
    let data_dir = data
        .path()
        .to_str()
        .context("data directory is not UTF-8")?;

    let run = run_worker(&["--data-dir", data_dir, "--settle-secs", "0"])?;

    assert_ne!(run.code, Some(0), "stdout: {}", run.stdout);
    assert!(run.code.is_some(), "killed by a signal");
    assert!(
        run.stderr.contains("--batch"),
        "stderr does not mention --batch: {}",
        run.stderr
    );
    Ok(())
}

#[test]
fn cli_usage_error_exits_1() -> Result<()> {
    let data = tempfile::tempdir()?;
    std::fs::create_dir(data.path().join("incoming"))?;

    let run = run_batch(data.path(), &["--jobs", "0"])?;

    assert!(
        run.stderr.contains("--jobs"),
        "stderr does not name the option: {}",
        run.stderr
    );
    // Exit code 2 means that some files failed, so an invalid option must not use it.
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    Ok(())
}
