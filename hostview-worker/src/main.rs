//! `hostview-worker`: processes Hostview uploads into the research database.
//!
//! `--batch` processes everything under `<data>/incoming/` once and exits with 0 when every
//! file was processed, 2 when some failed and 1 on a fatal error such as an unreachable database.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use hostview_core::pipeline::ProcessConfig;
use hostview_core::store::{Store, open_store};
use hostview_jobs::batch::{BatchConfig, BatchSummary, Progress, run_batch};
use hostview_jobs::retry::RetryPolicy;
use indicatif::{ProgressBar, ProgressStyle};

/// Processes Hostview client uploads into the research database.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Process every file under DATA_DIR/incoming once, then exit.
    #[arg(long)]
    batch: bool,

    /// Data directory containing incoming/; processed/ and failed/ are created in it.
    #[arg(long, env = "HOSTVIEW_DATA_DIR")]
    data_dir: PathBuf,

    /// Output database: postgres://USER@HOST/DB or sqlite://PATH [default: sqlite://DATA_DIR/hostview.sqlite].
    #[arg(long, env = "HOSTVIEW_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,

    /// Number of files processed at once [default: number of CPU cores].
    #[arg(long, env = "HOSTVIEW_JOBS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: Option<u16>,

    /// Maximum decompressed size of one upload, in bytes; larger uploads fail.
    #[arg(long, env = "HOSTVIEW_MAX_DECOMPRESSED_BYTES", default_value_t = 4 * 1024 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_decompressed_bytes: u64,

    /// Seconds since a file's last modification before it is read (files still uploading wait).
    #[arg(long, env = "HOSTVIEW_SETTLE_SECS", default_value_t = 5)]
    settle_secs: u64,

    /// Attempts per file for transient failures (database, disk), the first included.
    #[arg(long, env = "HOSTVIEW_MAX_ATTEMPTS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,

    /// Wait before the first retry, in milliseconds; each further wait doubles, up to 60 s.
    #[arg(long, env = "HOSTVIEW_RETRY_BACKOFF_MS", default_value_t = 1000)]
    retry_backoff_ms: u64,

    /// Folder for private temporary copies of decompressed uploads [default: the system's].
    #[arg(long, env = "HOSTVIEW_TEMP_DIR")]
    temp_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    init_logging();
    // Usage errors exit with 1 like other fatal errors, because 2 means "some files failed".
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(summary) if summary.all_succeeded() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(2),
        Err(error) => {
            eprintln!("hostview-worker: {}", describe_error(&error));
            ExitCode::from(1)
        }
    }
}

/// Joins an error and its causes with ": ", skipping a cause whose text the message already
/// contains (many errors repeat their source's message in their own).
fn describe_error(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOSTVIEW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn run(cli: Cli) -> anyhow::Result<BatchSummary> {
    if !cli.batch {
        bail!(
            "queue mode is not available yet: run with --batch to process DATA_DIR/incoming once"
        );
    }
    let incoming = cli.data_dir.join("incoming");
    if !incoming.is_dir() {
        bail!(
            "{} is not a directory: --data-dir must contain incoming/",
            incoming.display()
        );
    }
    let jobs = cli.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |cores| cores.get()),
        usize::from,
    );
    let database_url = cli.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            cli.data_dir.join("hostview.sqlite").display()
        )
    });
    let config = BatchConfig {
        data_dir: cli.data_dir.clone(),
        jobs,
        process: ProcessConfig {
            max_decompressed_bytes: cli.max_decompressed_bytes,
            settle_time: Duration::from_secs(cli.settle_secs),
            temp_dir: cli.temp_dir.clone(),
        },
        retry: RetryPolicy {
            max_attempts: cli.max_attempts,
            initial_backoff: Duration::from_millis(cli.retry_backoff_ms),
            ..RetryPolicy::default()
        },
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The stores block on this runtime from the batch threads; entering it lets them find it.
    let _runtime_guard = runtime.enter();
    let connections = u32::try_from(jobs + 1).unwrap_or(u32::MAX);
    // The store's errors name the database (without its password).
    let store = open_store(&database_url, connections)?;

    let progress = TerminalProgress::new();
    let summary = run_batch(store.as_ref(), &config, &progress)?;
    progress.finish();
    print_summary(&summary, store.as_ref());
    Ok(summary)
}

/// A progress bar on stderr, shown only when stderr is a terminal.
struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed_precise}")
            {
                bar.set_style(style);
            }
            bar
        });
        TerminalProgress { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn update(&self, finished: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(finished);
        }
    }
}

fn print_summary(summary: &BatchSummary, store: &dyn Store) {
    let files = summary.files();
    println!(
        "Processed {files} {} in {:.2} s into {}",
        plural(files, "file", "files"),
        summary.elapsed.as_secs_f64(),
        store.describe()
    );
    println!("  imported          {}", summary.imported);
    println!("  already imported  {}", summary.already_imported);
    println!("  recorded (other)  {}", summary.recorded);
    println!(
        "  not yet supported {} (captures and JSON stay in incoming/)",
        summary.not_yet_supported
    );
    println!("  failed            {}", summary.failed.len());

    if !summary.still_uploading.is_empty() {
        println!(
            "  still uploading   {} (left in incoming/ for the next run)",
            summary.still_uploading.len()
        );
    }
    if !summary.unmoved.is_empty() {
        println!("  not moved         {}", summary.unmoved.len());
    }
    if summary.repaired_values > 0 {
        println!(
            "  repaired values   {} (see the warnings in the log)",
            summary.repaired_values
        );
    }

    if !summary.rows.is_empty() {
        println!("Rows written:");
        for (table, count) in &summary.rows {
            println!("  {table:<28} {count}");
        }
    }

    for failed in &summary.failed {
        println!(
            "FAILED {} (after {} {}): {}",
            failed.relative.display(),
            failed.attempts,
            plural(u64::from(failed.attempts), "attempt", "attempts"),
            failed.reason
        );
    }
    for relative in &summary.still_uploading {
        println!(
            "STILL UPLOADING {} (left in incoming/ for the next run)",
            relative.display()
        );
    }
    for (relative, problem) in &summary.unmoved {
        println!("NOT MOVED {}: {problem}", relative.display());
    }
}

fn plural(count: u64, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}
