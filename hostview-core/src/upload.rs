//! Parsing and validation of upload paths.
//!
//! The upload server stores every client file as
//! `incoming/<device_id>/<hostview_version>/<year>/<iso_week>/<file>`, where year and week are
//! the ISO 8601 week-based year and week (UTC) of the session start. [`parse_upload_path`] checks
//! such a path lexically and on the file system, and [`classify_file_name`] derives the kind of
//! file from its name.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::failure::{Classify, FailureKind};

/// Number of path components below `incoming/`: device id, version, year, week and file name.
const COMPONENT_COUNT: usize = 5;

/// Compression suffixes of uploaded file names. [`classify_file_name`] strips at most one.
const COMPRESSION_SUFFIXES: [&str; 3] = [".zip", ".7z", ".gz"];

/// Kind of an uploaded file, derived from its name after one compression suffix is stripped.
///
/// All timestamps are milliseconds since the Unix epoch (UTC), as the client writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// Session database, `<session_ms>_stats.db`.
    SessionDb {
        /// Session start.
        session_ms: i64,
    },
    /// Piece of a packet capture, `<session_ms>_<connection_ms>_<piece>_<interface>_part.pcap`,
    /// or `…_last.pcap` for the final piece of the connection.
    CapturePiece {
        /// Session start.
        session_ms: i64,
        /// Start of the captured connection.
        connection_ms: i64,
        /// Piece number within the connection.
        piece: u32,
        /// Interface GUID as written in the name, including braces if present.
        interface: String,
        /// Whether this is the final piece (`_last.pcap`).
        last: bool,
    },
    /// Browser activity upload, `<session_ms>_<timestamp_ms>_browserupload.json`.
    BrowserJson {
        /// Session start.
        session_ms: i64,
    },
    /// Questionnaire answers, `<session_ms>_<timestamp_ms>_questionnaire.json`.
    QuestionnaireJson {
        /// Session start.
        session_ms: i64,
    },
    /// Any other name.
    Other,
}

impl FileKind {
    /// Returns the kind's name as stored in logs and in the database: `session_db`,
    /// `capture_piece`, `browser_json`, `questionnaire_json` or `other`.
    pub fn name(&self) -> &'static str {
        match self {
            FileKind::SessionDb { .. } => "session_db",
            FileKind::CapturePiece { .. } => "capture_piece",
            FileKind::BrowserJson { .. } => "browser_json",
            FileKind::QuestionnaireJson { .. } => "questionnaire_json",
            FileKind::Other => "other",
        }
    }
}

/// Validated upload path and the fields encoded in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPath {
    /// Path relative to `incoming/`, for example `DEV/2.1.3/2016/29/1468852623282_stats.db.zip`.
    pub relative: PathBuf,
    /// Device id, the first component (a GUID for the Windows client).
    pub device_id: String,
    /// Hostview client version, the second component. The database of the upload may state
    /// another version.
    pub version: String,
    /// ISO 8601 week-based year of the session start.
    pub year: u16,
    /// ISO 8601 week of the session start, 1 to 53.
    pub week: u8,
    /// Name of the upload as stored, for example `1468852623282_stats.db.zip`.
    pub file_name: String,
    /// Kind derived from `file_name`.
    pub kind: FileKind,
}

/// Reason why an upload path is rejected. Only [`UploadPathError::Io`] is transient.
#[derive(Debug, thiserror::Error)]
pub enum UploadPathError {
    /// The path does not start with the `incoming` directory. The check is lexical, so both
    /// paths must be written the same way (both absolute, or both relative to the same
    /// directory).
    #[error("upload path {} is not under {}", .path.display(), .incoming.display())]
    NotUnderIncoming {
        /// Rejected path.
        path: PathBuf,
        /// The `incoming` directory.
        incoming: PathBuf,
    },

    /// A component below `incoming` is empty, `.` or `..`, is not valid UTF-8, or contains a
    /// control character or a backslash.
    #[error("invalid upload path {}: component {component:?} {reason}", .path.display())]
    InvalidComponent {
        /// Rejected path.
        path: PathBuf,
        /// The offending component, with invalid UTF-8 replaced by U+FFFD.
        component: String,
        /// Reason the component is invalid, for example "contains a backslash".
        reason: &'static str,
    },

    /// The path does not have exactly five components below `incoming`.
    #[error(
        "invalid upload path {}: expected 5 components below incoming \
         (<device_id>/<version>/<year>/<week>/<file>), found {found}",
        .path.display()
    )]
    ComponentCount {
        /// Rejected path.
        path: PathBuf,
        /// Number of components found below `incoming`.
        found: usize,
    },

    /// The year component is not four ASCII digits.
    #[error("invalid upload path {}: year {year:?} is not a 4-digit number", .path.display())]
    InvalidYear {
        /// Rejected path.
        path: PathBuf,
        /// The year component.
        year: String,
    },

    /// The week component is not a number from 1 to 53 with one or two ASCII digits.
    #[error("invalid upload path {}: week {week:?} is not a number from 1 to 53", .path.display())]
    InvalidWeek {
        /// Rejected path.
        path: PathBuf,
        /// The week component.
        week: String,
    },

    /// A component or the file is a symbolic link whose target is outside `incoming`.
    #[error(
        "upload path {} contains the symbolic link {} to {}, which is outside {}",
        .path.display(),
        .link.display(),
        .target.display(),
        .incoming.display()
    )]
    SymlinkOutside {
        /// Rejected path.
        path: PathBuf,
        /// The symbolic link.
        link: PathBuf,
        /// Canonical target of the link.
        target: PathBuf,
        /// Canonical `incoming` directory.
        incoming: PathBuf,
    },

    /// The path resolves to something other than a regular file.
    #[error("upload path {} is a {file_type}, not a regular file", .path.display())]
    NotRegularFile {
        /// Rejected path.
        path: PathBuf,
        /// Kind of file system object found, for example "directory" or "FIFO".
        file_type: &'static str,
    },

    /// The path or a directory on it does not exist, a component on it is not a directory, or
    /// a name is too long.
    #[error("upload path {} not found: {source}", .path.display())]
    NotFound {
        /// Path that could not be resolved: the upload, a directory on it, or `incoming`.
        path: PathBuf,
        /// Error of the failed file system call.
        #[source]
        source: io::Error,
    },

    /// Resolving the path runs into a loop of symbolic links.
    #[error("upload path {} contains a loop of symbolic links: {source}", .path.display())]
    SymlinkLoop {
        /// Path whose resolution failed.
        path: PathBuf,
        /// Error of the failed file system call.
        #[source]
        source: io::Error,
    },

    /// Checking the path failed for another reason, for example a missing permission. This is
    /// the only transient variant.
    #[error("failed to check upload path {}: {source}", .path.display())]
    Io {
        /// Path whose check failed.
        path: PathBuf,
        /// Error of the failed file system call.
        #[source]
        source: io::Error,
    },
}

impl Classify for UploadPathError {
    fn failure_kind(&self) -> FailureKind {
        match self {
            UploadPathError::Io { .. } => FailureKind::Transient,
            UploadPathError::NotUnderIncoming { .. }
            | UploadPathError::InvalidComponent { .. }
            | UploadPathError::ComponentCount { .. }
            | UploadPathError::InvalidYear { .. }
            | UploadPathError::InvalidWeek { .. }
            | UploadPathError::SymlinkOutside { .. }
            | UploadPathError::NotRegularFile { .. }
            | UploadPathError::NotFound { .. }
            | UploadPathError::SymlinkLoop { .. } => FailureKind::Permanent,
        }
    }
}

/// Parses and validates the path of an upload below the `incoming` directory.
///
/// The lexical checks come first: `path` must be `incoming` followed by exactly five UTF-8
/// components without `.`, `..`, empty components, control characters or backslashes, and the
/// year and week must be valid. Then the file system is checked with `symlink_metadata`,
/// `canonicalize` and `metadata` only. Every symbolic link on the path must resolve inside the
/// canonical `incoming`, and the path must resolve to a regular file.
///
/// # Errors
///
/// Returns a permanent [`UploadPathError`] naming the path and the reason, except for
/// [`UploadPathError::Io`], which is transient.
pub fn parse_upload_path(incoming: &Path, path: &Path) -> Result<UploadPath, UploadPathError> {
    let components = split_components(incoming, path)?;
    let [device_id, version, year, week, file_name] = components;
    let year = parse_year(path, year)?;
    let week = parse_week(path, week)?;
    check_file_system(incoming, path, &components)?;

    Ok(UploadPath {
        relative: components.iter().collect(),
        device_id: device_id.to_string(),
        version: version.to_string(),
        year,
        week,
        file_name: file_name.to_string(),
        kind: classify_file_name(file_name),
    })
}

/// Splits the part of `path` below `incoming` into its five validated components.
///
/// The split works on the raw bytes, because [`Path::components`] silently drops `.` and empty
/// components, which must be rejected here.
// NOTE: this assumes `/` as the only separator, which holds on Unix. A backslash is rejected.
fn split_components<'a>(
    incoming: &Path,
    path: &'a Path,
) -> Result<[&'a str; COMPONENT_COUNT], UploadPathError> {
    let incoming_bytes = incoming.as_os_str().as_encoded_bytes();
    let prefix = incoming_bytes
        .iter()
        .rposition(|&byte| byte != b'/')
        .map_or(&incoming_bytes[..0], |last| &incoming_bytes[..=last]);
    let relative = path
        .as_os_str()
        .as_encoded_bytes()
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(b"/"))
        .ok_or_else(|| UploadPathError::NotUnderIncoming {
            path: path.to_path_buf(),
            incoming: incoming.to_path_buf(),
        })?;

    let mut components = Vec::with_capacity(COMPONENT_COUNT);
    for raw in relative.split(|&byte| byte == b'/') {
        components.push(validate_component(path, raw)?);
    }
    let found = components.len();
    components
        .try_into()
        .map_err(|_| UploadPathError::ComponentCount {
            path: path.to_path_buf(),
            found,
        })
}

/// Checks one component below `incoming` and returns it as text.
fn validate_component<'a>(path: &Path, raw: &'a [u8]) -> Result<&'a str, UploadPathError> {
    let invalid = |reason| UploadPathError::InvalidComponent {
        path: path.to_path_buf(),
        component: String::from_utf8_lossy(raw).into_owned(),
        reason,
    };
    let component = std::str::from_utf8(raw).map_err(|_| invalid("is not valid UTF-8"))?;

    match component {
        "" => Err(invalid("is empty")),
        "." => Err(invalid("is a current directory reference")),
        ".." => Err(invalid("is a parent directory reference")),
        _ if component.chars().any(char::is_control) => {
            Err(invalid("contains a control character"))
        }
        _ if component.contains('\\') => Err(invalid("contains a backslash")),
        _ => Ok(component),
    }
}

fn parse_year(path: &Path, year: &str) -> Result<u16, UploadPathError> {
    let invalid = || UploadPathError::InvalidYear {
        path: path.to_path_buf(),
        year: year.to_string(),
    };
    if year.len() != 4 || !is_ascii_number(year) {
        return Err(invalid());
    }
    year.parse().map_err(|_| invalid())
}

fn parse_week(path: &Path, week: &str) -> Result<u8, UploadPathError> {
    let invalid = || UploadPathError::InvalidWeek {
        path: path.to_path_buf(),
        week: week.to_string(),
    };
    if week.len() > 2 || !is_ascii_number(week) {
        return Err(invalid());
    }
    match week.parse() {
        Ok(number @ 1..=53) => Ok(number),
        _ => Err(invalid()),
    }
}

/// Checks symbolic links and the file type of a lexically valid upload path.
fn check_file_system(
    incoming: &Path,
    path: &Path,
    components: &[&str],
) -> Result<(), UploadPathError> {
    let canonical_incoming = incoming
        .canonicalize()
        .map_err(|error| file_system_error(incoming, error))?;

    // Each prefix is checked in turn, so the error names the first link that leaves incoming.
    let mut current = incoming.to_path_buf();
    for component in components {
        current.push(component);
        let metadata =
            fs::symlink_metadata(&current).map_err(|error| file_system_error(&current, error))?;
        if !metadata.file_type().is_symlink() {
            continue;
        }
        let target = current
            .canonicalize()
            .map_err(|error| file_system_error(&current, error))?;
        if !target.starts_with(&canonical_incoming) {
            return Err(UploadPathError::SymlinkOutside {
                path: path.to_path_buf(),
                link: current,
                target,
                incoming: canonical_incoming,
            });
        }
    }

    let metadata = fs::metadata(&current).map_err(|error| file_system_error(&current, error))?;
    if metadata.is_file() {
        Ok(())
    } else {
        Err(UploadPathError::NotRegularFile {
            path: path.to_path_buf(),
            file_type: describe_file_type(&metadata.file_type()),
        })
    }
}

/// Classifies a failed file system call on `path`.
fn file_system_error(path: &Path, source: io::Error) -> UploadPathError {
    let path = path.to_path_buf();
    match source.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename => {
            UploadPathError::NotFound { path, source }
        }
        _ if is_symlink_loop(&source) => UploadPathError::SymlinkLoop { path, source },
        _ => UploadPathError::Io { path, source },
    }
}

/// Returns whether `error` is `ELOOP`. The matching `io::ErrorKind::FilesystemLoop` is unstable
/// (Rust 1.95), so the OS error number is compared.
fn is_symlink_loop(error: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    const ELOOP: i32 = 40;
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    const ELOOP: i32 = 62;
    // NOTE: on other systems a symlink loop is reported as the transient `Io` variant.
    #[cfg(not(any(
        target_os = "linux",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    const ELOOP: i32 = -1;

    error.raw_os_error() == Some(ELOOP)
}

/// Names the type of a file system object that is not a regular file.
fn describe_file_type(file_type: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO";
        }
        if file_type.is_socket() {
            return "socket";
        }
        if file_type.is_block_device() {
            return "block device";
        }
        if file_type.is_char_device() {
            return "character device";
        }
    }
    if file_type.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

/// Derives the kind of an upload from its name.
///
/// One trailing `.zip`, `.7z` or `.gz` is stripped first, because uploads may be compressed
/// (the Windows client names its 7-Zip archives `.zip`) or not. Suffixes are case-sensitive.
/// Timestamps and the piece number must be plain ASCII digits that fit the field type.
/// Otherwise the name is [`FileKind::Other`].
pub fn classify_file_name(name: &str) -> FileKind {
    let name = strip_compression_suffix(name);

    if let Some(session) = name.strip_suffix("_stats.db")
        && let Some(session_ms) = parse_millis(session)
    {
        return FileKind::SessionDb { session_ms };
    }
    if let Some(stem) = name.strip_suffix("_browserupload.json")
        && let Some(session_ms) = parse_session_and_timestamp(stem)
    {
        return FileKind::BrowserJson { session_ms };
    }
    if let Some(stem) = name.strip_suffix("_questionnaire.json")
        && let Some(session_ms) = parse_session_and_timestamp(stem)
    {
        return FileKind::QuestionnaireJson { session_ms };
    }
    parse_capture_piece(name).unwrap_or(FileKind::Other)
}

fn strip_compression_suffix(name: &str) -> &str {
    COMPRESSION_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

/// Parses `<session_ms>_<timestamp_ms>` and returns the session start.
fn parse_session_and_timestamp(stem: &str) -> Option<i64> {
    let (session, timestamp) = stem.split_once('_')?;
    parse_millis(timestamp)?;
    parse_millis(session)
}

/// Parses `<session_ms>_<connection_ms>_<piece>_<interface>_part.pcap` or `…_last.pcap`.
fn parse_capture_piece(name: &str) -> Option<FileKind> {
    let (stem, last) = match name.strip_suffix("_part.pcap") {
        Some(stem) => (stem, false),
        None => (name.strip_suffix("_last.pcap")?, true),
    };

    // The interface comes last and keeps any further underscores.
    let mut fields = stem.splitn(4, '_');
    let session_ms = parse_millis(fields.next()?)?;
    let connection_ms = parse_millis(fields.next()?)?;
    let piece = parse_ascii_number(fields.next()?)?;
    let interface = fields.next().filter(|interface| !interface.is_empty())?;

    Some(FileKind::CapturePiece {
        session_ms,
        connection_ms,
        piece,
        interface: interface.to_string(),
        last,
    })
}

fn parse_millis(text: &str) -> Option<i64> {
    parse_ascii_number(text)
}

/// Parses a non-empty string of ASCII digits. Unlike `str::parse`, it rejects a leading `+`.
fn parse_ascii_number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if is_ascii_number(text) {
        text.parse().ok()
    } else {
        None
    }
}

fn is_ascii_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use tempfile::TempDir;

    use super::*;

    const DEVICE: &str = "0A1B2C3D-0000-4000-8000-00000000D001";
    const GUID: &str = "{7C9E2B14-3A5D-4F61-8B2E-0D4C6A19F3B7}";

    /// Data directory with an `incoming` directory inside it.
    struct Tree {
        data: TempDir,
        incoming: PathBuf,
    }

    impl Tree {
        fn new() -> Self {
            let data = tempfile::tempdir().unwrap();
            let incoming = data.path().join("incoming");
            fs::create_dir(&incoming).unwrap();
            Tree { data, incoming }
        }

        /// Creates a file at `relative` below `incoming`, with its parent directories.
        fn create_file(&self, relative: &str) -> PathBuf {
            let path = self.incoming.join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, b"upload").unwrap();
            path
        }

        fn parse(&self, relative: &str) -> Result<UploadPath, UploadPathError> {
            parse_upload_path(&self.incoming, &self.incoming.join(relative))
        }
    }

    fn week_path(file_name: &str) -> String {
        format!("{DEVICE}/2.1.3/2016/29/{file_name}")
    }

    #[test]
    fn upload_path_accepts_session_db() {
        let tree = Tree::new();
        let relative = week_path("1468852623282_stats.db.zip");
        tree.create_file(&relative);

        let upload = tree.parse(&relative).unwrap();

        assert_eq!(upload.relative, PathBuf::from(&relative));
        assert_eq!(upload.device_id, DEVICE);
        assert_eq!(upload.version, "2.1.3");
        assert_eq!(upload.year, 2016);
        assert_eq!(upload.week, 29);
        assert_eq!(upload.file_name, "1468852623282_stats.db.zip");
        assert_eq!(
            upload.kind,
            FileKind::SessionDb {
                session_ms: 1468852623282
            }
        );
    }

    #[test]
    fn upload_path_accepts_uncompressed_session_db() {
        let tree = Tree::new();
        let relative = format!("{DEVICE}/2.1.3/2017/11/1489657634567_stats.db");
        tree.create_file(&relative);

        let upload = tree.parse(&relative).unwrap();

        assert_eq!(
            upload.kind,
            FileKind::SessionDb {
                session_ms: 1489657634567
            }
        );
        assert_eq!(upload.week, 11);
    }

    #[test]
    fn upload_path_accepts_capture_pieces() {
        let tree = Tree::new();
        let part = week_path(&format!(
            "1796413043232_1796413134338_0_{GUID}_part.pcap.zip"
        ));
        let last = week_path(&format!(
            "1796413043232_1796413134338_2_{GUID}_last.pcap.zip"
        ));
        tree.create_file(&part);
        tree.create_file(&last);

        let part_kind = tree.parse(&part).unwrap().kind;
        let last_kind = tree.parse(&last).unwrap().kind;

        let expected = |piece, last| FileKind::CapturePiece {
            session_ms: 1796413043232,
            connection_ms: 1796413134338,
            piece,
            interface: GUID.to_string(),
            last,
        };
        assert_eq!(part_kind, expected(0, false));
        assert_eq!(last_kind, expected(2, true));
    }

    #[test]
    fn upload_path_accepts_json_and_other_files() {
        let tree = Tree::new();
        let cases = [
            (
                "1468852623282_1468852999000_browserupload.json.zip",
                FileKind::BrowserJson {
                    session_ms: 1468852623282,
                },
            ),
            (
                "1468852623282_1468852999000_questionnaire.json",
                FileKind::QuestionnaireJson {
                    session_ms: 1468852623282,
                },
            ),
            ("notes.txt", FileKind::Other),
        ];
        for (file_name, expected) in cases {
            let relative = week_path(file_name);
            tree.create_file(&relative);

            let upload = tree.parse(&relative).unwrap();

            assert_eq!(upload.kind, expected, "{file_name}");
            assert_eq!(upload.file_name, file_name);
        }
    }

    #[test]
    fn upload_path_accepts_single_digit_week() {
        let tree = Tree::new();
        for week in ["7", "07"] {
            let relative = format!("{DEVICE}/2.1.3/2016/{week}/1_stats.db");
            tree.create_file(&relative);

            assert_eq!(tree.parse(&relative).unwrap().week, 7, "week {week}");
        }
    }

    #[test]
    fn upload_path_accepts_incoming_with_trailing_slash() {
        let tree = Tree::new();
        let relative = week_path("1_stats.db");
        let path = tree.create_file(&relative);
        let incoming = PathBuf::from(format!("{}/", tree.incoming.display()));

        let upload = parse_upload_path(&incoming, &path).unwrap();

        assert_eq!(upload.relative, PathBuf::from(relative));
    }

    #[cfg(unix)]
    #[test]
    fn upload_path_accepts_symlinks_inside_incoming() {
        let tree = Tree::new();
        let target = tree.create_file("store/1_stats.db");
        fs::create_dir_all(tree.incoming.join(format!("{DEVICE}/2.1.3/2016"))).unwrap();
        std::os::unix::fs::symlink(
            tree.incoming.join("store"),
            tree.incoming.join(format!("{DEVICE}/2.1.3/2016/29")),
        )
        .unwrap();
        std::os::unix::fs::symlink(&target, tree.incoming.join("store/2_stats.db")).unwrap();

        let linked_directory = tree.parse(&week_path("1_stats.db")).unwrap();
        let linked_file = tree.parse(&week_path("2_stats.db")).unwrap();

        assert_eq!(linked_directory.kind, FileKind::SessionDb { session_ms: 1 });
        assert_eq!(linked_file.kind, FileKind::SessionDb { session_ms: 2 });
    }

    #[test]
    fn upload_path_rejects_path_outside_incoming() {
        let tree = Tree::new();
        let sibling = tree
            .data
            .path()
            .join("incoming-old")
            .join(week_path("1_stats.db"));
        let elsewhere = tree
            .data
            .path()
            .join("failed")
            .join(week_path("1_stats.db"));

        for path in [sibling, elsewhere] {
            let error = parse_upload_path(&tree.incoming, &path).unwrap_err();
            assert!(
                matches!(error, UploadPathError::NotUnderIncoming { .. }),
                "{error}"
            );
            assert!(error.is_permanent());
            assert!(
                error.to_string().contains(&path.display().to_string()),
                "{error}"
            );
        }
    }

    #[test]
    fn upload_path_rejects_parent_component() {
        let tree = Tree::new();
        tree.create_file(&week_path("1_stats.db"));

        let error = tree
            .parse(&format!("{DEVICE}/2.1.3/2016/../2016/29/1_stats.db"))
            .unwrap_err();

        assert!(
            matches!(error, UploadPathError::InvalidComponent { .. }),
            "{error}"
        );
        assert!(error.is_permanent());
        assert!(error.to_string().contains("parent directory"), "{error}");
    }

    #[test]
    fn upload_path_rejects_current_component() {
        let tree = Tree::new();
        tree.create_file(&week_path("1_stats.db"));

        for relative in [
            format!("./{}", week_path("1_stats.db")),
            format!("{DEVICE}/./2.1.3/2016/29/1_stats.db"),
        ] {
            let error = tree.parse(&relative).unwrap_err();
            assert!(
                matches!(error, UploadPathError::InvalidComponent { .. }),
                "{relative}: {error}"
            );
            assert!(error.is_permanent());
        }
    }

    #[test]
    fn upload_path_rejects_empty_component() {
        let tree = Tree::new();
        tree.create_file(&week_path("1_stats.db"));

        let cases = [
            format!("{DEVICE}//2.1.3/2016/29/1_stats.db"),
            format!("/{}", week_path("1_stats.db")),
            format!("{}/", week_path("1_stats.db")),
        ];
        for relative in cases {
            let path = PathBuf::from(format!("{}/{relative}", tree.incoming.display()));
            let error = parse_upload_path(&tree.incoming, &path).unwrap_err();
            assert!(
                matches!(
                    error,
                    UploadPathError::InvalidComponent {
                        reason: "is empty",
                        ..
                    }
                ),
                "{relative}: {error}"
            );
        }
    }

    #[test]
    fn upload_path_rejects_wrong_component_count() {
        let tree = Tree::new();
        let cases = [
            (format!("{DEVICE}/2016/29/1_stats.db"), 4),
            (format!("{DEVICE}/2.1.3/2016/29/extra/1_stats.db"), 6),
        ];
        for (relative, found) in cases {
            tree.create_file(&relative);

            let error = tree.parse(&relative).unwrap_err();

            assert!(
                matches!(error, UploadPathError::ComponentCount { found: count, .. } if count == found),
                "{error}"
            );
            assert!(error.is_permanent());
        }
    }

    #[cfg(unix)]
    #[test]
    fn upload_path_rejects_non_utf8_component() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;

        let tree = Tree::new();
        let mut raw = tree.incoming.as_os_str().as_bytes().to_vec();
        raw.extend_from_slice(format!("/{DEVICE}/2.1.3/2016/29/").as_bytes());
        raw.extend_from_slice(b"bad\xFFname_stats.db");
        let path = PathBuf::from(OsStr::from_bytes(&raw));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"upload").unwrap();

        let error = parse_upload_path(&tree.incoming, &path).unwrap_err();

        assert!(
            matches!(
                error,
                UploadPathError::InvalidComponent {
                    reason: "is not valid UTF-8",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[test]
    fn upload_path_rejects_control_character() {
        let tree = Tree::new();
        let relative = week_path("1\n_stats.db");
        tree.create_file(&relative);

        let error = tree.parse(&relative).unwrap_err();

        assert!(
            matches!(
                error,
                UploadPathError::InvalidComponent {
                    reason: "contains a control character",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("\"1\\n_stats.db\""), "{error}");
    }

    #[test]
    fn upload_path_rejects_backslash() {
        let tree = Tree::new();
        let relative = week_path("..\\1_stats.db");
        tree.create_file(&relative);

        let error = tree.parse(&relative).unwrap_err();

        assert!(
            matches!(
                error,
                UploadPathError::InvalidComponent {
                    reason: "contains a backslash",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn upload_path_rejects_invalid_year() {
        let tree = Tree::new();
        for year in ["16", "20166", "2O16", "+016", "-016"] {
            let relative = format!("{DEVICE}/2.1.3/{year}/29/1_stats.db");
            tree.create_file(&relative);

            let error = tree.parse(&relative).unwrap_err();

            assert!(
                matches!(error, UploadPathError::InvalidYear { .. }),
                "year {year}: {error}"
            );
            assert!(error.is_permanent());
        }
    }

    #[test]
    fn upload_path_rejects_invalid_week() {
        let tree = Tree::new();
        for week in ["0", "00", "54", "99", "+5", "029", "w1"] {
            let relative = format!("{DEVICE}/2.1.3/2016/{week}/1_stats.db");
            tree.create_file(&relative);

            let error = tree.parse(&relative).unwrap_err();

            assert!(
                matches!(error, UploadPathError::InvalidWeek { .. }),
                "week {week}: {error}"
            );
            assert!(error.is_permanent());
        }
    }

    #[cfg(unix)]
    #[test]
    fn upload_path_rejects_file_symlink_outside() {
        let tree = Tree::new();
        let outside = tree.data.path().join("secret.db");
        fs::write(&outside, b"secret").unwrap();
        let relative = week_path("1_stats.db");
        let link = tree.incoming.join(&relative);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&outside, &link).unwrap();

        let error = tree.parse(&relative).unwrap_err();

        assert!(
            matches!(error, UploadPathError::SymlinkOutside { .. }),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[cfg(unix)]
    #[test]
    fn upload_path_rejects_directory_symlink_outside() {
        let tree = Tree::new();
        let outside = tree.data.path().join("elsewhere");
        fs::create_dir_all(outside.join("2.1.3/2016/29")).unwrap();
        fs::write(outside.join("2.1.3/2016/29/1_stats.db"), b"upload").unwrap();
        std::os::unix::fs::symlink(&outside, tree.incoming.join(DEVICE)).unwrap();

        let error = tree.parse(&week_path("1_stats.db")).unwrap_err();

        match error {
            UploadPathError::SymlinkOutside { ref link, .. } => {
                assert_eq!(link, &tree.incoming.join(DEVICE));
            }
            ref other => panic!("expected SymlinkOutside, got {other}"),
        }
        assert!(error.is_permanent());
    }

    #[cfg(unix)]
    #[test]
    fn upload_path_rejects_symlink_loop() {
        let tree = Tree::new();
        let relative = week_path("1_stats.db");
        let link = tree.incoming.join(&relative);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&link, &link).unwrap();

        let error = tree.parse(&relative).unwrap_err();

        assert!(
            matches!(error, UploadPathError::SymlinkLoop { .. }),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[test]
    fn upload_path_rejects_directory() {
        let tree = Tree::new();
        let relative = week_path("1_stats.db");
        fs::create_dir_all(tree.incoming.join(&relative)).unwrap();

        let error = tree.parse(&relative).unwrap_err();

        assert!(
            matches!(
                error,
                UploadPathError::NotRegularFile {
                    file_type: "directory",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[cfg(unix)]
    #[test]
    fn upload_path_rejects_socket() {
        let tree = Tree::new();
        let relative = week_path("1_stats.db");
        let path = tree.incoming.join(&relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();

        let error = tree.parse(&relative).unwrap_err();

        assert!(
            matches!(
                error,
                UploadPathError::NotRegularFile {
                    file_type: "socket",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[test]
    fn upload_path_rejects_missing_file() {
        let tree = Tree::new();
        tree.create_file(&week_path("1_stats.db"));

        let error = tree.parse(&week_path("2_stats.db")).unwrap_err();

        assert!(matches!(error, UploadPathError::NotFound { .. }), "{error}");
        assert!(error.is_permanent());
    }

    #[test]
    fn upload_path_rejects_file_in_place_of_directory() {
        let tree = Tree::new();
        tree.create_file(&format!("{DEVICE}/2.1.3/2016/29"));

        let error = tree.parse(&week_path("1_stats.db")).unwrap_err();

        assert!(matches!(error, UploadPathError::NotFound { .. }), "{error}");
        assert!(error.is_permanent());
    }

    #[cfg(unix)]
    #[test]
    fn upload_path_permission_denied_is_transient() {
        use std::os::unix::fs::PermissionsExt;

        let tree = Tree::new();
        let relative = week_path("1_stats.db");
        let path = tree.create_file(&relative);
        let week_directory = path.parent().unwrap();
        fs::set_permissions(week_directory, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::symlink_metadata(&path).is_ok() {
            // Privileged users (root, CAP_DAC_OVERRIDE) ignore directory permissions.
            fs::set_permissions(week_directory, fs::Permissions::from_mode(0o755)).unwrap();
            eprintln!("skipped: permissions are not enforced for this user");
            return;
        }

        let error = tree.parse(&relative).unwrap_err();
        fs::set_permissions(week_directory, fs::Permissions::from_mode(0o755)).unwrap();

        assert!(matches!(error, UploadPathError::Io { .. }), "{error}");
        assert!(!error.is_permanent());
    }

    #[test]
    fn upload_path_io_errors_are_classified() {
        let path = Path::new("/data/incoming/x");
        let cases = [
            (io::ErrorKind::NotFound, FailureKind::Permanent),
            (io::ErrorKind::NotADirectory, FailureKind::Permanent),
            (io::ErrorKind::PermissionDenied, FailureKind::Transient),
            (io::ErrorKind::TimedOut, FailureKind::Transient),
        ];
        for (kind, expected) in cases {
            let error = file_system_error(path, io::Error::from(kind));
            assert_eq!(error.failure_kind(), expected, "{kind:?}");
        }
    }

    #[test]
    fn classify_file_name_strips_one_compression_suffix() {
        let session = FileKind::SessionDb {
            session_ms: 1468852623282,
        };
        let cases = [
            ("1468852623282_stats.db", session.clone()),
            ("1468852623282_stats.db.zip", session.clone()),
            ("1468852623282_stats.db.7z", session.clone()),
            ("1468852623282_stats.db.gz", session),
            ("1468852623282_stats.db.zip.gz", FileKind::Other),
            ("1468852623282_stats.db.ZIP", FileKind::Other),
        ];
        for (name, expected) in cases {
            assert_eq!(classify_file_name(name), expected, "{name}");
        }
    }

    #[test]
    fn classify_file_name_rejects_malformed_numbers() {
        let names = [
            "_stats.db",
            "+1468852623282_stats.db",
            "-1468852623282_stats.db",
            "14688526232820000000000_stats.db",
            "1468852623282_x_stats.db",
            "1_2_4294967296_{GUID}_part.pcap",
            "1_2_3__part.pcap",
            "1_2_part.pcap",
            "1__browserupload.json",
            "x_2_questionnaire.json",
            "1468852623282_stats.db-wal",
        ];
        for name in names {
            assert_eq!(classify_file_name(name), FileKind::Other, "{name}");
        }
    }

    #[test]
    fn classify_file_name_keeps_underscores_in_interface() {
        let kind = classify_file_name("1_2_3_eth_0_last.pcap.gz");

        let expected = FileKind::CapturePiece {
            session_ms: 1,
            connection_ms: 2,
            piece: 3,
            interface: "eth_0".to_string(),
            last: true,
        };
        assert_eq!(kind, expected);
    }

    #[test]
    fn file_kind_names_are_stable() {
        let capture = FileKind::CapturePiece {
            session_ms: 1,
            connection_ms: 2,
            piece: 0,
            interface: GUID.to_string(),
            last: false,
        };
        assert_eq!(FileKind::SessionDb { session_ms: 1 }.name(), "session_db");
        assert_eq!(capture.name(), "capture_piece");
        assert_eq!(
            FileKind::BrowserJson { session_ms: 1 }.name(),
            "browser_json"
        );
        assert_eq!(
            FileKind::QuestionnaireJson { session_ms: 1 }.name(),
            "questionnaire_json"
        );
        assert_eq!(FileKind::Other.name(), "other");
    }
}
