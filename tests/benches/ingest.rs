//! Benchmark of the session import: `cargo bench -p hostview-e2e --bench ingest`.
//!
//! Measures, against the PostgreSQL server of `HOSTVIEW_TEST_DATABASE_URL`:
//!
//! 1. The anonymized real session `1468852623282_stats.db.zip` of the shared uploads (see
//!    [`shared_uploads`]): the in-process batch import into PostgreSQL and into SQLite, and the
//!    floor. The floor is `psql \copy` loading the same output rows from CSV files, in one
//!    transaction, into a fresh database with the same schema, constraints and indexes.
//! 2. Wall time and peak resident memory (max RSS) of the release `hostview-worker` binary, run
//!    as a child process on a copy of that file (at most 3 runs per backend).
//! 3. A large generated session (`hostview_testdata::large_session`, 7z-compressed): wall time,
//!    rows per second and max RSS of the worker binary on each backend, and the floor.
//!
//! Every database is created under a unique name and dropped at the end. Parts 1 and 2 are
//! skipped with a message when the shared uploads are absent, and part 3 still runs.
//!
//! Output: one `key=value` line per run (`run …`) and per summary (`result …`), with plain
//! numbers, so that scripts can pick them out with grep. Optional settings:
//!
//! - `HOSTVIEW_BENCH_REPEATS`: runs per measurement of the real file, default 5.
//! - `HOSTVIEW_BENCH_LARGE_ROWS`: procs plus ports rows of the large session, default 2000000.
//! - `HOSTVIEW_BENCH_LARGE_REPEATS`: worker runs per backend on the large file, default 3.
//! - `HOSTVIEW_WORKER_BIN`: a worker binary to run instead of building
//!   `target/release/hostview-worker`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use hostview_core::archive::{ExtractLimits, extract_upload};
use hostview_e2e::{Backend, TestEnv, server_url, shared_uploads};
use hostview_jobs::batch::run_batch;

/// Path of the real session below `uploads/incoming/`.
const REAL_FILE: &str =
    "0A1B2C3D-0000-4000-8000-00000000D001/2.1.3/2016/29/1468852623282_stats.db.zip";

/// Output rows of the real session: 129,943 source rows, of which two `session` rows become one
/// `sessions` row.
const REAL_FILE_ROWS: u64 = 129_942;

/// Start of the large generated session: 2016-07-18T08:15:00.250Z.
const LARGE_SESSION_MS: i64 = 1_468_829_700_250;

/// Device and client version of the large generated session's upload path.
const LARGE_DEVICE: &str = "0A1B2C3D-0000-4000-8000-0000000BE7C4";
const LARGE_VERSION: &str = "2.1.3";

/// Peak RSS that the import should stay under whatever the file size, in MiB.
const MEMORY_TARGET_MIB: f64 = 100.0;

/// Output tables that are not rows of a session: bookkeeping and the upload's parents.
const NON_SESSION_TABLES: &[&str] = &["hostview_migrations", "devices", "files", "users"];

/// Settings read from the environment.
struct Settings {
    repeats: usize,
    large_rows: usize,
    large_repeats: usize,
}

impl Settings {
    fn from_env() -> Result<Self> {
        Ok(Settings {
            repeats: env_number("HOSTVIEW_BENCH_REPEATS", 5)?,
            large_rows: env_number("HOSTVIEW_BENCH_LARGE_ROWS", 2_000_000)?,
            large_repeats: env_number("HOSTVIEW_BENCH_LARGE_REPEATS", 3)?,
        })
    }
}

/// Returns the positive integer in environment variable `name`, or `default` when it is unset.
fn env_number(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(error) => bail!("{name} is not valid Unicode: {error}"),
        Ok(text) => {
            let number: usize = text
                .trim()
                .parse()
                .with_context(|| format!("{name}={text:?} is not a positive integer"))?;
            ensure!(number > 0, "{name} must be at least 1, got {number}");
            Ok(number)
        }
    }
}

/// Timings of one measurement, in seconds, with the rows that each run wrote.
struct Samples {
    label: String,
    seconds: Vec<f64>,
    rows: u64,
}

impl Samples {
    fn new(label: impl Into<String>) -> Self {
        Samples {
            label: label.into(),
            seconds: Vec::new(),
            rows: 0,
        }
    }

    /// Records and prints one run. Every run of a measurement must write the same rows.
    fn push(&mut self, elapsed: Duration, rows: u64) -> Result<()> {
        ensure!(
            self.seconds.is_empty() || rows == self.rows,
            "{}: run {} wrote {rows} rows, earlier runs {}",
            self.label,
            self.seconds.len() + 1,
            self.rows
        );
        self.rows = rows;
        self.seconds.push(elapsed.as_secs_f64());
        println!(
            "run {} repeat={} seconds={:.3} rows={rows}",
            self.label,
            self.seconds.len(),
            elapsed.as_secs_f64()
        );
        Ok(())
    }

    fn median(&self) -> f64 {
        let mut sorted = self.seconds.clone();
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        if sorted.len().is_multiple_of(2) {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        } else {
            sorted[middle]
        }
    }

    fn min(&self) -> f64 {
        self.seconds.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// Prints the summary line and returns the median in seconds.
    fn report(&self) -> f64 {
        let median = self.median();
        println!(
            "result {} runs={} median_s={median:.3} min_s={:.3} rows={} rows_per_s_median={:.0} rows_per_s_best={:.0}",
            self.label,
            self.seconds.len(),
            self.min(),
            self.rows,
            self.rows as f64 / median,
            self.rows as f64 / self.min()
        );
        median
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ingest benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    // This binary has no options, so it ignores the `--bench` that `cargo bench` passes.
    let settings = Settings::from_env()?;
    let worker = worker_binary()?;
    print_machine(&worker);

    match shared_uploads("ingest benchmark") {
        Some(uploads) => {
            let upload = uploads.join("incoming").join(REAL_FILE);
            ensure!(
                upload.is_file(),
                "the shared uploads do not contain {}",
                upload.display()
            );
            bench_real_file(&settings, &worker, &upload)?;
        }
        None => println!(
            "# real file: SKIPPED, shared uploads absent; the large generated session still runs"
        ),
    }

    bench_large_file(&settings, &worker)?;
    Ok(())
}

/// Returns the release worker binary: `HOSTVIEW_WORKER_BIN`, or `hostview-worker` built with
/// `cargo build --release` next to this benchmark's own binary.
fn worker_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("HOSTVIEW_WORKER_BIN") {
        let path = PathBuf::from(path);
        ensure!(
            path.is_file(),
            "HOSTVIEW_WORKER_BIN={} is not a file",
            path.display()
        );
        return Ok(path);
    }

    // This binary is target/release/deps/ingest-<hash>, and `cargo build --release` writes
    // the worker to target/release/.
    let exe = std::env::current_exe().context("cannot find the benchmark's own path")?;
    let release_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("the benchmark binary has no target/release folder above it")?;
    let worker = release_dir.join("hostview-worker");

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "hostview-worker",
            "--bin",
            "hostview-worker",
        ])
        .current_dir(&workspace)
        .status()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    ensure!(
        status.success(),
        "cargo build --release -p hostview-worker failed ({status}); fix the build or set HOSTVIEW_WORKER_BIN"
    );
    ensure!(
        worker.is_file(),
        "cargo built hostview-worker, but {} does not exist",
        worker.display()
    );
    Ok(worker)
}

/// Prints the machine and server versions as `#` comment lines.
fn print_machine(worker: &Path) {
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let postgres = command_output(
        "psql",
        &["-X", "-A", "-t", "-c", "SHOW server_version", &server_url()],
    )
    .unwrap_or_else(|error| format!("unknown ({error:#})"));
    println!("# cores={cores} cpu={cpu:?}");
    println!("# postgresql_server={}", postgres.trim());
    println!("# worker={}", worker.display());
}

/// Runs `program` and returns its standard output, failing on a non-zero exit.
fn command_output(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    ensure!(
        output.status.success(),
        "{program} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Copies `upload` into `env`'s `incoming/` at `relative`.
fn place_upload(env: &TestEnv, upload: &Path, relative: &Path) -> Result<()> {
    let target = env.incoming().join(relative);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(upload, &target)
        .with_context(|| format!("cannot copy {} to {}", upload.display(), target.display()))?;
    Ok(())
}

/// Imports `upload` in this process into a fresh output database, and returns the database,
/// the wall time of the batch run and the rows it wrote.
///
/// The timed part is the batch run over one file: hashing, decompression into a temporary
/// folder, the import transaction and the move to `processed/`. Creating the database and
/// applying the migrations happen before it.
fn import_in_process(
    backend: Backend,
    upload: &Path,
    relative: &Path,
) -> Result<(TestEnv, Duration, u64)> {
    let env = TestEnv::new(backend)?;
    place_upload(&env, upload, relative)?;
    let store = env.store()?;
    let config = env.batch_config(1);

    let guard = env.runtime.enter();
    let started = Instant::now();
    let summary = run_batch(store.as_ref(), &config, &())?;
    let elapsed = started.elapsed();
    drop(guard);
    drop(store);

    ensure!(
        summary.imported == 1 && summary.all_succeeded(),
        "the import of {} did not succeed: failed {:?}, not moved {:?}",
        relative.display(),
        summary.failed,
        summary.unmoved
    );
    let rows = summary.rows.values().sum();
    Ok((env, elapsed, rows))
}

/// Returns the names of the tables that hold session rows in `env`'s output database.
fn session_tables(env: &TestEnv) -> Result<Vec<String>> {
    let sql = match env.backend {
        Backend::Postgres => {
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name"
        }
    };
    Ok(env
        .query(sql)?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .filter(|name| !NON_SESSION_TABLES.contains(&name.as_str()))
        .collect())
}

/// Returns the number of session rows in every table of `env`'s output database.
fn count_session_rows(env: &TestEnv) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for table in session_tables(env)? {
        let count = env.count(&format!("\"{table}\""))?;
        if count > 0 {
            counts.insert(table, u64::try_from(count)?);
        }
    }
    Ok(counts)
}

fn bench_real_file(settings: &Settings, worker: &Path, upload: &Path) -> Result<()> {
    let relative = Path::new(REAL_FILE);
    let compressed = std::fs::metadata(upload)?.len();
    let started = Instant::now();
    let extracted = extract_upload(upload, "session.db", &ExtractLimits::default(), None)?;
    let decompress_s = started.elapsed().as_secs_f64();
    println!(
        "# real file: {REAL_FILE} compressed_bytes={compressed} decompressed_bytes={} \
         decompress_s={decompress_s:.3} repeats={}",
        extracted.decompressed_bytes, settings.repeats
    );
    drop(extracted);

    // The first PostgreSQL import stays open as the source of the floor's CSV files.
    let mut imports = BTreeMap::new();
    let mut floor_source = None;
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let mut samples = Samples::new(format!(
            "case=real backend={} measure=import",
            name(backend)
        ));
        for _ in 0..settings.repeats {
            let (env, elapsed, rows) = import_in_process(backend, upload, relative)?;
            samples.push(elapsed, rows)?;
            if samples.seconds.len() == 1 {
                check_real_rows(&env, rows)?;
            }
            if backend == Backend::Postgres && floor_source.is_none() {
                floor_source = Some(env);
            }
        }
        imports.insert(name(backend), samples.report());
    }

    let Some(source) = floor_source else {
        bail!("no PostgreSQL import to export the floor's rows from");
    };
    match psql_floor(&source, settings.repeats, "real")? {
        Some(floor) => {
            // SQLite is compared with the PostgreSQL floor too: no SQLite floor is measured.
            for (backend, median) in &imports {
                println!(
                    "result case=real measure=ratio backend={backend} import_over_postgres_floor_median={:.2}",
                    median / floor
                );
            }
        }
        None => println!("# real file floor: SKIPPED, psql is not installed"),
    }
    drop(source);

    for backend in [Backend::Postgres, Backend::Sqlite] {
        worker_runs(
            worker,
            backend,
            upload,
            relative,
            settings.repeats.min(3),
            "real",
        )?;
    }
    Ok(())
}

/// Fails unless the output database contains exactly the rows that the import reported, and
/// the expected total for the real file.
fn check_real_rows(env: &TestEnv, reported: u64) -> Result<()> {
    let counts = count_session_rows(env)?;
    let stored: u64 = counts.values().sum();
    ensure!(
        stored == reported,
        "the import reported {reported} rows but the {} database holds {stored}: {counts:?}",
        name(env.backend)
    );
    ensure!(
        stored == REAL_FILE_ROWS,
        "the real file should give {REAL_FILE_ROWS} rows, got {stored}: {counts:?}"
    );
    Ok(())
}

fn name(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    }
}

/// A table to export for the floor, with the columns to copy.
struct FloorTable {
    name: String,
    columns: String,
    rows: u64,
}

/// Measures the floor: `psql -1 -f` loading every row of `source` from CSV files into a fresh
/// database with the same schema, `repeats` times. Returns the median in seconds, or `None`
/// when psql is not installed.
fn psql_floor(source: &TestEnv, repeats: usize, case: &str) -> Result<Option<f64>> {
    if Command::new("psql")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        return Ok(None);
    }
    let tables = floor_tables(source)?;
    let total_rows: u64 = tables
        .iter()
        .filter(|table| !NON_SESSION_TABLES.contains(&table.name.as_str()))
        .map(|table| table.rows)
        .sum();

    let csv_dir = tempfile::tempdir()?;
    let mut export = String::new();
    let mut load = String::new();
    for table in &tables {
        let csv = csv_dir.path().join(format!("{}.csv", table.name));
        let csv = csv.to_str().context("temporary path is not UTF-8")?;
        export.push_str(&format!(
            "\\copy (SELECT {} FROM \"{}\") TO '{csv}' CSV\n",
            table.columns, table.name
        ));
        load.push_str(&format!(
            "\\copy \"{}\" ({}) FROM '{csv}' CSV\n",
            table.name, table.columns
        ));
    }
    let export_script = csv_dir.path().join("export.sql");
    let load_script = csv_dir.path().join("load.sql");
    std::fs::write(&export_script, export)?;
    std::fs::write(&load_script, &load)?;
    run_psql(&source.database_url, &export_script, false)?;
    let csv_bytes: u64 = std::fs::read_dir(csv_dir.path())?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "csv"))
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum();
    println!(
        "# {case} floor: {} tables, {total_rows} session rows, csv_bytes={csv_bytes}",
        tables.len()
    );

    let mut samples = Samples::new(format!(
        "case={case} backend=postgres measure=floor_psql_copy"
    ));
    for _ in 0..repeats {
        let target = TestEnv::new(Backend::Postgres)?;
        // Opening the store applies the same migrations as the import's database had.
        drop(target.store()?);
        let started = Instant::now();
        run_psql(&target.database_url, &load_script, true)?;
        let elapsed = started.elapsed();
        let loaded: u64 = count_session_rows(&target)?.values().sum();
        ensure!(
            loaded == total_rows,
            "the floor loaded {loaded} session rows, expected {total_rows}"
        );
        samples.push(elapsed, loaded)?;
    }
    Ok(Some(samples.report()))
}

/// Runs a psql script with `ON_ERROR_STOP`, in one transaction when `single_transaction`.
fn run_psql(database_url: &str, script: &Path, single_transaction: bool) -> Result<()> {
    let mut command = Command::new("psql");
    command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
    if single_transaction {
        command.arg("-1");
    }
    let output = command
        .arg("-f")
        .arg(script)
        .arg(database_url)
        .output()
        .context("cannot run psql")?;
    ensure!(
        output.status.success(),
        "psql -f {} failed ({}): {}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

/// Lists the non-empty tables of `source` in foreign-key order, parents first.
///
/// Tables that other tables refer to keep their `id`, so that the children's references stay
/// valid in the fresh database. Every other table is copied without `id`, which the database then
/// generates, as it does for the import's `COPY`.
fn floor_tables(source: &TestEnv) -> Result<Vec<FloorTable>> {
    let references = source.query(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
    )?;
    let mut parents_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut referenced = BTreeSet::new();
    for row in references {
        let (Some(child), Some(parent)) = (row[0].clone(), row[1].clone()) else {
            continue;
        };
        referenced.insert(parent.clone());
        if child != parent {
            parents_of.entry(child).or_default().insert(parent);
        }
    }

    let columns = source.query(
        "SELECT table_name, column_name FROM information_schema.columns \
         WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
    )?;
    let mut columns_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in columns {
        let (Some(table), Some(column)) = (row[0].clone(), row[1].clone()) else {
            continue;
        };
        if column != "id" || referenced.contains(&table) {
            columns_of
                .entry(table)
                .or_default()
                .push(format!("\"{column}\""));
        }
    }

    let mut pending: BTreeMap<String, u64> = BTreeMap::new();
    for table in columns_of.keys() {
        if table == "hostview_migrations" {
            continue;
        }
        let rows = u64::try_from(source.count(&format!("\"{table}\""))?)?;
        if rows > 0 {
            pending.insert(table.clone(), rows);
        }
    }

    let mut ordered = Vec::new();
    let mut placed = BTreeSet::new();
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .keys()
            .filter(|table| {
                parents_of.get(*table).is_none_or(|parents| {
                    parents
                        .iter()
                        .all(|parent| placed.contains(parent) || !pending.contains_key(parent))
                })
            })
            .cloned()
            .collect();
        ensure!(
            !ready.is_empty(),
            "foreign keys form a cycle among {:?}",
            pending.keys().collect::<Vec<_>>()
        );
        for table in ready {
            let rows = pending.remove(&table).unwrap_or(0);
            ordered.push(FloorTable {
                columns: columns_of[&table].join(", "),
                name: table.clone(),
                rows,
            });
            placed.insert(table);
        }
    }
    Ok(ordered)
}

/// One run of the worker binary as a child process, with the output database it filled.
struct WorkerRun {
    elapsed: Duration,
    max_rss_kib: u64,
    rows: u64,
    env: TestEnv,
}

/// Summary of the worker runs of one measurement.
struct WorkerSummary {
    median_s: f64,
    /// Output database of the last run, kept for the floor's CSV export.
    last_env: TestEnv,
}

/// Runs the worker binary `repeats` times on a copy of `upload`, each into a fresh database, and
/// prints the wall times and the max RSS.
fn worker_runs(
    worker: &Path,
    backend: Backend,
    upload: &Path,
    relative: &Path,
    repeats: usize,
    case: &str,
) -> Result<WorkerSummary> {
    let mut samples = Samples::new(format!(
        "case={case} backend={} measure=worker_process",
        name(backend)
    ));
    let mut max_rss_kib = 0;
    let mut last_env = None;
    for _ in 0..repeats {
        // Drop the previous run's database first, so that at most one extra database exists.
        drop(last_env.take());
        let run = run_worker(worker, backend, upload, relative)?;
        println!(
            "run case={case} backend={} measure=worker_max_rss max_rss_kib={}",
            name(backend),
            run.max_rss_kib
        );
        max_rss_kib = max_rss_kib.max(run.max_rss_kib);
        samples.push(run.elapsed, run.rows)?;
        last_env = Some(run.env);
    }
    let median_s = samples.report();
    let max_rss_mib = max_rss_kib as f64 / 1024.0;
    println!(
        "result case={case} backend={} measure=worker_max_rss runs={repeats} max_rss_mib={max_rss_mib:.1} under_{MEMORY_TARGET_MIB:.0}_mib={}",
        name(backend),
        max_rss_mib < MEMORY_TARGET_MIB
    );
    Ok(WorkerSummary {
        median_s,
        last_env: last_env.context("no worker run")?,
    })
}

/// Runs the worker in batch mode on a fresh data folder, which contains a copy of `upload`, and
/// a fresh output database, and returns its wall time, max RSS and the session rows it wrote.
fn run_worker(
    worker: &Path,
    backend: Backend,
    upload: &Path,
    relative: &Path,
) -> Result<WorkerRun> {
    let env = TestEnv::new(backend)?;
    place_upload(&env, upload, relative)?;
    let log = env.data_dir().join("worker.log");
    let rss_file = env.data_dir().join("max_rss_kib");

    let mut command = if Path::new("/usr/bin/time").is_file() {
        // GNU time's `%M` is the max RSS of the child over its lifetime, in kilobytes.
        let mut command = Command::new("/usr/bin/time");
        command
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(worker);
        command
    } else {
        Command::new(worker)
    };
    command
        .args(["--batch", "--settle-secs", "0", "--data-dir"])
        .arg(env.data_dir())
        .env("HOSTVIEW_LOG", "warn")
        .stdout(Stdio::from(std::fs::File::create(&log)?))
        .stderr(Stdio::from(std::fs::File::create(
            env.data_dir().join("worker.err"),
        )?));
    if backend == Backend::Postgres {
        command.arg("--database-url").arg(&env.database_url);
    }

    let started = Instant::now();
    let mut child = command.spawn().context("cannot start the worker")?;
    let polled_kib = if Path::new("/usr/bin/time").is_file() {
        None
    } else {
        Some(poll_max_rss_kib(child.id()))
    };
    let status = child.wait()?;
    let elapsed = started.elapsed();

    let errors = std::fs::read_to_string(env.data_dir().join("worker.err")).unwrap_or_default();
    ensure!(
        status.success(),
        "the worker failed ({status}) on {}: {}",
        relative.display(),
        errors.trim()
    );
    let max_rss_kib = match polled_kib {
        Some(kib) => kib,
        None => std::fs::read_to_string(&rss_file)?
            .lines()
            .filter_map(|line| line.trim().parse::<u64>().ok())
            .next_back()
            .with_context(|| format!("no max RSS in {}", rss_file.display()))?,
    };
    let rows = count_session_rows(&env)?.values().sum();
    Ok(WorkerRun {
        elapsed,
        max_rss_kib,
        rows,
        env,
    })
}

/// Polls `VmHWM` of process `pid` every 10 ms until the process exits, and returns the highest
/// value seen, in KiB. Used only when `/usr/bin/time` is missing.
///
/// NOTE: growth in the last 10 ms before the exit is missed.
fn poll_max_rss_kib(pid: u32) -> u64 {
    let status_path = format!("/proc/{pid}/status");
    let mut max_kib = 0;
    while let Ok(status) = std::fs::read_to_string(&status_path) {
        if status
            .lines()
            .any(|line| line.starts_with("State:") && line.contains("zombie"))
        {
            break;
        }
        if let Some(kib) = status
            .lines()
            .find(|line| line.starts_with("VmHWM:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
        {
            max_kib = max_kib.max(kib);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    max_kib
}

fn bench_large_file(settings: &Settings, worker: &Path) -> Result<()> {
    let work = tempfile::tempdir()?;
    let procs_rows = settings.large_rows / 2;
    let ports_rows = settings.large_rows - procs_rows;
    let member = format!("{LARGE_SESSION_MS}_stats.db");
    let db = work.path().join(&member);

    let started = Instant::now();
    let expected = hostview_testdata::large_session(&db, LARGE_SESSION_MS, procs_rows, ports_rows)?;
    let generated = started.elapsed();
    let file_name = format!("{member}.zip");
    let upload = hostview_testdata::upload_path(
        &work.path().join("incoming"),
        LARGE_DEVICE,
        LARGE_VERSION,
        LARGE_SESSION_MS,
        &file_name,
    )?;
    let started = Instant::now();
    hostview_testdata::write_7z(&db, &upload, &member)?;
    let compressed_in = started.elapsed();
    let relative = upload
        .strip_prefix(work.path().join("incoming"))?
        .to_path_buf();

    std::fs::remove_file(&db)?;
    let started = Instant::now();
    let extracted = extract_upload(&upload, "session.db", &ExtractLimits::default(), None)?;
    let decompressed_in = started.elapsed();

    let source_rows: u64 = expected.source_rows.values().sum();
    println!(
        "# large file: procs={procs_rows} ports={ports_rows} source_rows={source_rows} \
         decompressed_bytes={} compressed_bytes={} generate_s={:.1} compress_s={:.1} \
         decompress_s={:.3} repeats={}",
        extracted.decompressed_bytes,
        std::fs::metadata(&upload)?.len(),
        generated.as_secs_f64(),
        compressed_in.as_secs_f64(),
        decompressed_in.as_secs_f64(),
        settings.large_repeats
    );
    drop(extracted);

    let postgres = worker_runs(
        worker,
        Backend::Postgres,
        &upload,
        &relative,
        settings.large_repeats,
        "large",
    )?;
    match psql_floor(&postgres.last_env, settings.large_repeats, "large")? {
        Some(floor) => println!(
            "result case=large measure=ratio backend=postgres worker_over_postgres_floor_median={:.2}",
            postgres.median_s / floor
        ),
        None => println!("# large file floor: SKIPPED, psql is not installed"),
    }
    drop(postgres);

    worker_runs(
        worker,
        Backend::Sqlite,
        &upload,
        &relative,
        settings.large_repeats,
        "large",
    )?;
    Ok(())
}
