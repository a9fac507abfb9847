//! Batch-mode behaviour that needs no particular database content: files still being written,
//! kinds that are not imported yet, and files of no known kind.

use std::fs::File;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use hostview_e2e::{Backend, TestEnv};
use hostview_jobs::batch::run_batch;
use hostview_testdata::{full_session, upload_path};

const DEVICE: &str = "BATCH-0000-4000-8000-000000000001";
const SESSION_MS: i64 = 1_468_829_700_250;

#[test]
fn batch_leaves_growing_file_in_incoming() -> Result<()> {
    let env = TestEnv::new(Backend::Sqlite)?;
    let upload = upload_path(
        &env.incoming(),
        DEVICE,
        "2.1.3",
        SESSION_MS,
        &format!("{SESSION_MS}_stats.db"),
    )?;
    full_session(&upload, SESSION_MS)?;
    // A modification time in the future keeps the file "just written" for every attempt.
    File::options()
        .write(true)
        .open(&upload)?
        .set_modified(SystemTime::now() + Duration::from_secs(3600))?;
    let mut config = env.batch_config(1);
    config.process.settle_time = Duration::from_secs(60);
    config.retry.max_attempts = 2;

    let store = env.store()?;
    let summary = run_batch(store.as_ref(), &config, &())?;

    assert_eq!(summary.still_uploading.len(), 1);
    assert!(summary.failed.is_empty());
    assert_eq!(summary.imported, 0);
    assert!(upload.exists(), "the file stays in incoming/");
    assert!(!env.data_dir().join("failed").exists());
    assert_eq!(env.count("sessions")?, 0);
    Ok(())
}

#[test]
fn batch_keeps_unsupported_kinds_in_incoming() -> Result<()> {
    let env = TestEnv::new(Backend::Sqlite)?;
    let names = [
        format!(
            "{SESSION_MS}_1468829800000_0_{{7C9E2B14-3A5D-4F61-8B2E-0D4C6A19F3B7}}_part.pcap.zip"
        ),
        format!(
            "{SESSION_MS}_1468829800000_1_{{7C9E2B14-3A5D-4F61-8B2E-0D4C6A19F3B7}}_last.pcap.zip"
        ),
        format!("{SESSION_MS}_1468829900000_browserupload.json"),
        format!("{SESSION_MS}_1468829900000_questionnaire.json"),
    ];
    let mut uploads = Vec::new();
    for name in &names {
        let upload = upload_path(&env.incoming(), DEVICE, "2.1.3", SESSION_MS, name)?;
        std::fs::write(&upload, b"not parsed yet")?;
        uploads.push(upload);
    }

    let summary = env.run_batch(2)?;

    assert_eq!(summary.not_yet_supported, 4);
    assert!(summary.failed.is_empty());
    for upload in &uploads {
        assert!(upload.exists(), "{} stays in incoming/", upload.display());
    }
    assert_eq!(env.count("files")?, 0);
    Ok(())
}

fn check_other_kind_recorded(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let name = format!("{SESSION_MS}_notes.txt");
    let upload = upload_path(&env.incoming(), DEVICE, "2.1.3", SESSION_MS, &name)?;
    std::fs::write(&upload, b"free text")?;

    let first = env.run_batch(1)?;
    std::fs::create_dir_all(upload.parent().expect("upload has a folder"))?;
    std::fs::write(&upload, b"free text")?;
    let second = env.run_batch(1)?;

    assert_eq!(first.recorded, 1);
    assert_eq!(second.already_imported, 1);
    assert!(!upload.exists());
    let relative = upload.strip_prefix(env.incoming())?;
    assert!(env.data_dir().join("processed").join(relative).exists());
    assert_eq!(
        env.query_i64("SELECT count(*) FROM files WHERE kind = 'other' AND status = 'success'")?,
        1
    );
    assert_eq!(env.count("sessions")?, 0);
    Ok(())
}

#[test]
fn batch_records_other_kind_sqlite() -> Result<()> {
    check_other_kind_recorded(Backend::Sqlite)
}

#[test]
fn batch_records_other_kind_postgres() -> Result<()> {
    check_other_kind_recorded(Backend::Postgres)
}

#[test]
fn batch_applies_wal_from_archive() -> Result<()> {
    let env = TestEnv::new(Backend::Sqlite)?;
    let work = tempfile::tempdir()?;
    let db = work.path().join("live.db");
    let expected = full_session(&db, SESSION_MS)?;
    // Rows that exist only in the write-ahead log: copy the files while the writer is open,
    // because closing the last connection checkpoints the log into the database.
    let writer = rusqlite::Connection::open(&db)?;
    writer.pragma_update(None, "journal_mode", "WAL")?;
    writer.pragma_update(None, "wal_autocheckpoint", 0)?;
    for pid in 0..5 {
        writer.execute(
            "INSERT INTO procs (pid, name, memory, cpu, timestamp) VALUES (?1, 'wal.exe', 1, 0.0, ?2)",
            (pid, SESSION_MS + 10_000),
        )?;
    }
    let db_copy = work.path().join("copy.db");
    let wal_copy = work.path().join("copy.db-wal");
    std::fs::copy(&db, &db_copy)?;
    std::fs::copy(work.path().join("live.db-wal"), &wal_copy)?;
    drop(writer);
    let name = format!("{SESSION_MS}_stats.db");
    let upload = upload_path(
        &env.incoming(),
        DEVICE,
        "2.1.3",
        SESSION_MS,
        &format!("{name}.zip"),
    )?;
    hostview_testdata::write_zip_entries(
        &upload,
        &[
            (name.as_str(), db_copy.as_path()),
            (format!("{name}-wal").as_str(), wal_copy.as_path()),
        ],
    )?;

    let summary = env.run_batch(1)?;

    assert!(summary.failed.is_empty(), "failures: {:?}", summary.failed);
    assert_eq!(summary.imported, 1);
    assert_eq!(
        env.count("processes")? as u64,
        expected.source_rows["procs"] + 5
    );
    assert_eq!(
        env.query_i64("SELECT count(*) FROM processes WHERE name = 'wal.exe'")?,
        5
    );
    Ok(())
}
