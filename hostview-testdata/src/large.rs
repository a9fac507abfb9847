//! Large session databases for benchmarks and memory tests.

use std::path::Path;

use anyhow::{Context, Result};

use crate::expected::{Expected, RowWriter};
use crate::schema::{ClientSchema, create_session_db};

/// Processes listed per `procs` snapshot, and connections per `ports` snapshot.
pub const ROWS_PER_SNAPSHOT: usize = 100;

/// Time between two `procs` or `ports` snapshots, in milliseconds.
pub const SNAPSHOT_INTERVAL_MS: i64 = 5_000;

/// Offset of the first snapshot from the session start, in milliseconds.
const FIRST_SNAPSHOT_OFFSET_MS: i64 = 2_000;

const PROCESS_NAMES: [&str; 8] = [
    "svchost.exe",
    "chrome.exe",
    "explorer.exe",
    "OUTLOOK.EXE",
    "Skype.exe",
    "MsMpEng.exe",
    "devenv.exe",
    "lsass.exe",
];

/// Writes a session with `procs_rows` rows in `procs` and `ports_rows` rows in `ports`, in one
/// transaction with prepared statements. New schema. Times below are offsets from
/// `T = session_ms`.
///
/// Both tables hold snapshots of [`ROWS_PER_SNAPSHOT`] rows taken every
/// [`SNAPSHOT_INTERVAL_MS`], the first at T+2 000, so row `i` has timestamp
/// T+2 000 + (i / 100) × 5 000 (`ports` rows 1 ms later). The session has a `start` event at T
/// and a `stop` event one interval after the last snapshot, 1 `sysinfo` row, and 1
/// `connectivity` row: Ethernet `{0D8E3B61-7A2C-4F95-B4E1-6C3A9F2D5E70}` connected at T+1 000
/// until the end. Every other table is empty.
///
/// Unlike the small canned sessions, the file is not vacuumed, because `VACUUM` would copy the
/// whole database once more.
pub fn large_session(
    path: &Path,
    session_ms: i64,
    procs_rows: usize,
    ports_rows: usize,
) -> Result<Expected> {
    let t = session_ms;
    let conn = create_session_db(path, ClientSchema::New)?;
    // A crash while generating leaves a useless file anyway, so skip the fsync calls.
    conn.pragma_update(None, "synchronous", "OFF")?;
    let tx = conn.unchecked_transaction()?;
    let mut writer = RowWriter::new(&tx, ClientSchema::New);

    let snapshots = procs_rows.max(ports_rows).div_ceil(ROWS_PER_SNAPSHOT);
    let snapshot_ms = |row: usize| -> i64 {
        let snapshot = i64::try_from(row / ROWS_PER_SNAPSHOT).unwrap_or(i64::MAX);
        t + FIRST_SNAPSHOT_OFFSET_MS + snapshot * SNAPSHOT_INTERVAL_MS
    };
    let stop_ms = snapshot_ms(snapshots * ROWS_PER_SNAPSHOT);

    writer.event(t, "start")?;
    writer.insert(
        "sysinfo",
        &[
            &t,
            &"Dell Inc.",
            &"Latitude E7450",
            &"Windows 10 Enterprise AMD64",
            &"Intel(R) Core(TM) i7-5600U CPU @ 2.60GHz",
            &17_062_584_320_i64,
            &511_101_108_224_i64,
            &"EXAMPLE01",
            &"2,1,3,0",
            &7,
            &"Romance Standard Time",
            &4_294_967_236_i64,
        ],
    )?;
    writer.insert(
        "connectivity",
        &[
            &"{0D8E3B61-7A2C-4F95-B4E1-6C3A9F2D5E70}",
            &"Ethernet",
            &"Intel(R) Ethernet Connection I219-LM",
            &"corp.example",
            &"54-EE-75-00-00-02",
            &"10.20.31.77",
            &"10.20.31.1",
            &"10.20.31.1",
            &1_000_000_000_i64,
            &1_000_000_000_i64,
            &0,
            &"",
            &"",
            &"",
            &"",
            &"",
            &0,
            &0,
            &1,
            &(t + 1_000),
        ],
    )?;
    writer.connection(
        "{0D8E3B61-7A2C-4F95-B4E1-6C3A9F2D5E70}",
        "54-EE-75-00-00-02",
        t + 1_000,
        None,
    );

    // RowWriter::insert formats its SQL per row, so the bulk rows use their own statements.
    {
        let mut insert_proc = tx.prepare("INSERT INTO procs VALUES (?, ?, ?, ?, ?)")?;
        for row in 0..procs_rows {
            let slot = row % ROWS_PER_SNAPSHOT;
            let pid = 1000 + 4 * slot as i64;
            let name = PROCESS_NAMES[slot % PROCESS_NAMES.len()];
            let memory = 4_096 * (1_000 + (row % 5_000) as i64);
            let cpu = (row % 401) as f64 / 4.0;
            insert_proc
                .execute(rusqlite::params![pid, name, memory, cpu, snapshot_ms(row)])
                .context("failed to insert a procs row")?;
        }

        let mut insert_port = tx.prepare("INSERT INTO ports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")?;
        for row in 0..ports_rows {
            let slot = row % ROWS_PER_SNAPSHOT;
            let pid = 1000 + 4 * slot as i64;
            let name = PROCESS_NAMES[slot % PROCESS_NAMES.len()];
            let src_port = 49_152 + (row % 16_000) as i64;
            let (protocol, dest, dest_port, state) = if slot % 4 == 3 {
                (17, String::new(), 0, 0)
            } else {
                let dest = format!("198.18.{}.{}", slot % 256, 1 + row % 250);
                (6, dest, 443, 5)
            };
            insert_port
                .execute(rusqlite::params![
                    pid,
                    name,
                    protocol,
                    "10.20.31.77",
                    dest,
                    src_port,
                    dest_port,
                    state,
                    snapshot_ms(row) + 1,
                ])
                .context("failed to insert a ports row")?;
        }
    }
    writer.add_rows("procs", procs_rows as u64);
    writer.add_rows("ports", ports_rows as u64);
    writer.event(stop_ms, "stop")?;

    let expected = writer.finish()?;
    tx.commit()?;
    conn.close()
        .map_err(|(_, error)| error)
        .context("failed to close session database")?;
    Ok(expected)
}
