//! Extraction of compressed uploads into a private temporary directory.
//!
//! Hostview clients compress uploads with 7-Zip (LZMA or LZMA2) but name the result `.zip`, and
//! some deployments upload genuine zip (deflate), gzip or uncompressed files. The container is
//! therefore detected from the first bytes of the file, never from its name.
//!
//! Entry names inside an archive are only used to choose the entries. The extracted files always
//! get the name the caller passes, so a name such as `../../evil` cannot write outside the
//! temporary directory. Decoded bytes are counted while they are read, and extraction stops as
//! soon as the count exceeds the limit, whatever sizes the archive headers declare.
//!
//! # Panics
//!
//! No function in this module panics on any file content. [`detect_container`] only compares
//! bytes. [`extract_upload`] checks every index and size it uses, and it also catches a panic
//! raised inside the 7z, zip or gzip decoder and returns it as [`ArchiveError::Invalid`]. That
//! catch relies on the default `panic = "unwind"` strategy, and the panic hook still prints the
//! panic message.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::ptr;
use std::rc::Rc;

use sevenz_rust2::{ArchiveEntry, ArchiveReader, Password};
use tempfile::TempDir;
use zip::ZipArchive;
use zip::result::ZipError;

use crate::failure::{Classify, FailureKind};

/// Size of the read and write buffers. Large buffers keep the number of system calls low while
/// decoding multi-megabyte LZMA streams.
const IO_BUFFER_BYTES: usize = 64 * 1024;

/// Number of leading bytes that [`detect_container`] needs (the length of the 7z signature).
const HEADER_BYTES: u64 = 6;

const SEVEN_ZIP_SIGNATURE: &[u8] = &[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C];
const ZIP_LOCAL_FILE_SIGNATURE: &[u8] = &[0x50, 0x4B, 0x03, 0x04];
const ZIP_END_OF_CENTRAL_DIRECTORY_SIGNATURE: &[u8] = &[0x50, 0x4B, 0x05, 0x06];
const GZIP_SIGNATURE: &[u8] = &[0x1F, 0x8B];

/// Suffix of the SQLite write-ahead log that belongs to the main database file.
const WAL_SUFFIX: &str = "-wal";

/// Suffixes of SQLite side files that extraction skips: the WAL index, which SQLite rebuilds
/// from the WAL, and the rollback journal.
// NOTE: skipping a hot `-journal` means an interrupted transaction is not rolled back.
const IGNORED_SUFFIXES: [&str; 2] = ["-shm", "-journal"];

/// Maximum number of entry names that an error message lists.
const MAX_LISTED_ENTRIES: usize = 10;

/// Maximum number of characters of one entry name in an error message.
const MAX_LISTED_NAME_CHARS: usize = 200;

/// Default for [`ExtractLimits::max_decompressed_bytes`]: 4 GiB.
const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Compression container of an upload, detected from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// 7-Zip archive (signature `37 7A BC AF 27 1C`), the format of the Windows client.
    SevenZip,
    /// PKZIP archive (local file header `50 4B 03 04`, or `50 4B 05 06` for an empty archive).
    Zip,
    /// gzip file (`1F 8B`). Only the first member is decoded.
    Gzip,
    /// Any other content, taken as the uncompressed file.
    Plain,
}

impl Container {
    /// Returns the short name used in logs and messages: `7z`, `zip`, `gzip` or `plain`.
    pub fn name(&self) -> &'static str {
        match self {
            Container::SevenZip => "7z",
            Container::Zip => "zip",
            Container::Gzip => "gzip",
            Container::Plain => "plain",
        }
    }

    /// Returns the noun that error messages use for an upload in this container.
    fn noun(&self) -> &'static str {
        match self {
            Container::SevenZip => "7z archive",
            Container::Zip => "zip archive",
            Container::Gzip => "gzip file",
            Container::Plain => "uncompressed file",
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// Detects the container from the first bytes of an upload.
///
/// Six bytes are enough to tell the containers apart. A `header` shorter than a signature never
/// matches that signature, so an empty or very short file is [`Container::Plain`].
pub fn detect_container(header: &[u8]) -> Container {
    if header.starts_with(SEVEN_ZIP_SIGNATURE) {
        Container::SevenZip
    } else if header.starts_with(ZIP_LOCAL_FILE_SIGNATURE)
        || header.starts_with(ZIP_END_OF_CENTRAL_DIRECTORY_SIGNATURE)
    {
        Container::Zip
    } else if header.starts_with(GZIP_SIGNATURE) {
        Container::Gzip
    } else {
        Container::Plain
    }
}

/// Limits that keep a decompression bomb from filling the disk.
#[derive(Debug, Clone)]
pub struct ExtractLimits {
    /// Maximum number of bytes decoded from one upload. The count covers the main file and the
    /// WAL. In a 7z archive it also covers the skipped entries, because the reader decodes them
    /// as well. Default: 4 GiB (4 × 1024³ bytes).
    pub max_decompressed_bytes: u64,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
        }
    }
}

/// Files extracted from one upload. Dropping the value removes the temporary directory.
#[derive(Debug)]
pub struct Extracted {
    /// Private temporary directory (mode 0700 on Unix) that contains the extracted files.
    pub dir: TempDir,
    /// Main file, `dir/<main_name>`.
    pub main: PathBuf,
    /// SQLite write-ahead log, `dir/<main_name>-wal`, present when the archive contained an entry
    /// whose name ends with `-wal`.
    pub wal: Option<PathBuf>,
    /// Container detected from the first bytes of the upload.
    pub container: Container,
    /// Number of bytes written to `main` and `wal` together.
    pub decompressed_bytes: u64,
}

/// Error source that is kept for [`std::error::Error::source`].
type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Failure to extract an upload. Read and write failures are transient, all others permanent.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The caller passed a `main_name` that is not a single plain file name: it is empty, `.` or
    /// `..`, or it contains `/`, `\` or NUL. This is a bug in the caller that no retry fixes, so
    /// the failure is permanent.
    #[error("invalid main_name {name:?}: expected a plain file name such as \"session.db\"")]
    InvalidMainName {
        /// Name that the caller passed.
        name: String,
    },

    /// Opening or reading the upload failed for a reason other than its content, for example a
    /// missing permission or a device error. Transient.
    #[error("failed to read upload {}: {source}", .path.display())]
    ReadUpload {
        /// Upload path.
        path: PathBuf,
        /// Error of the failed open, read or seek.
        #[source]
        source: io::Error,
    },

    /// Creating the private temporary directory failed. Transient.
    #[error("failed to create a temporary directory in {}: {source}", .root.display())]
    CreateTempDir {
        /// Directory in which the temporary directory was to be created.
        root: PathBuf,
        /// Error of the failed creation.
        #[source]
        source: io::Error,
    },

    /// Creating or writing an extracted file failed, for example because the disk is full.
    /// Transient.
    #[error("failed to write {} while extracting {}: {source}", .output.display(), .path.display())]
    WriteOutput {
        /// Upload path.
        path: PathBuf,
        /// Extracted file that could not be written.
        output: PathBuf,
        /// Error of the failed create, write or flush.
        #[source]
        source: io::Error,
    },

    /// The decoded content exceeds [`ExtractLimits::max_decompressed_bytes`]. Permanent.
    #[error(
        "{} {} exceeds the limit of {limit} decompressed bytes; raise max_decompressed_bytes if the upload is genuine",
        .container.noun(),
        .path.display()
    )]
    TooLarge {
        /// Upload path.
        path: PathBuf,
        /// Detected container.
        container: Container,
        /// Limit that was exceeded, in bytes.
        limit: u64,
    },

    /// The upload is truncated or corrupt: a bad checksum, an unexpected end of file, an invalid
    /// compressed stream, garbage after the signature, or a panic inside the decoder. Permanent.
    #[error("invalid {} {}: {reason}", .container.noun(), .path.display())]
    Invalid {
        /// Upload path.
        path: PathBuf,
        /// Detected container.
        container: Container,
        /// Message of the decoder.
        reason: String,
        /// Error of the decoder, when it returned one.
        #[source]
        source: Option<BoxedSource>,
    },

    /// The archive, its header or an entry to extract is encrypted. Uploads come without a
    /// password, so the failure is permanent.
    #[error("{} {} is encrypted, and encrypted uploads are not supported", .container.noun(), .path.display())]
    Encrypted {
        /// Upload path.
        path: PathBuf,
        /// Detected container.
        container: Container,
    },

    /// The archive uses a compression method or format feature that this build cannot decode,
    /// for example PPMd or BZip2 in a 7z archive. Permanent.
    #[error("unsupported {} {}: {feature}", .container.noun(), .path.display())]
    Unsupported {
        /// Method or feature, as the decoder names it.
        feature: String,
        /// Upload path.
        path: PathBuf,
        /// Detected container.
        container: Container,
        /// Error of the decoder, when it returned one.
        #[source]
        source: Option<BoxedSource>,
    },

    /// No entry is left after skipping directories, the WAL and ignored SQLite side files
    /// (`-shm`, `-journal`). Permanent.
    #[error(
        "{} {} contains no file to extract; entries found: {}",
        .container.noun(),
        .path.display(),
        format_entry_names(.entries)
    )]
    MissingEntry {
        /// Upload path.
        path: PathBuf,
        /// Detected container.
        container: Container,
        /// Names of all entries in the archive.
        entries: Vec<String>,
    },

    /// More than one entry qualifies as the main file, or more than one as the WAL. Permanent.
    #[error(
        "{} {} contains {} candidates for the {role}, expected exactly one: {}",
        .container.noun(),
        .path.display(),
        .entries.len(),
        format_entry_names(.entries)
    )]
    AmbiguousEntries {
        /// Upload path.
        path: PathBuf,
        /// Detected container.
        container: Container,
        /// `"main file"` or `"WAL"`.
        role: &'static str,
        /// Names of the competing entries.
        entries: Vec<String>,
    },
}

impl Classify for ArchiveError {
    fn failure_kind(&self) -> FailureKind {
        match self {
            ArchiveError::ReadUpload { .. }
            | ArchiveError::CreateTempDir { .. }
            | ArchiveError::WriteOutput { .. } => FailureKind::Transient,
            ArchiveError::InvalidMainName { .. }
            | ArchiveError::TooLarge { .. }
            | ArchiveError::Invalid { .. }
            | ArchiveError::Encrypted { .. }
            | ArchiveError::Unsupported { .. }
            | ArchiveError::MissingEntry { .. }
            | ArchiveError::AmbiguousEntries { .. } => FailureKind::Permanent,
        }
    }
}

/// Formats entry names for an error message: quoted and escaped, at most
/// [`MAX_LISTED_ENTRIES`] of them, each cut to [`MAX_LISTED_NAME_CHARS`] characters.
fn format_entry_names(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }

    let mut listed: Vec<String> = names
        .iter()
        .take(MAX_LISTED_ENTRIES)
        .map(|name| {
            let shortened: String = name.chars().take(MAX_LISTED_NAME_CHARS).collect();
            format!("{shortened:?}")
        })
        .collect();
    if names.len() > MAX_LISTED_ENTRIES {
        listed.push(format!("and {} more", names.len() - MAX_LISTED_ENTRIES));
    }
    listed.join(", ")
}

/// Extracts an upload into a new private temporary directory.
///
/// The main file is written as `<dir>/<main_name>` and a WAL entry, if any, as
/// `<dir>/<main_name>-wal`. An uncompressed upload is copied, and the upload itself is never
/// modified. The temporary directory is created in `temp_root`, or in the system temporary
/// directory when `temp_root` is `None`. On error the temporary directory is already removed.
///
/// In a zip or 7z archive, directories and entries whose names end with `-shm` or `-journal` are
/// skipped, an entry whose name ends with `-wal` is the WAL, and exactly one entry must remain.
///
/// # Errors
///
/// Returns a permanent [`ArchiveError`] for a corrupt, truncated, encrypted, unsupported or too
/// large upload and for an archive without exactly one main entry. Failures to read the upload or
/// to write the temporary directory are transient.
pub fn extract_upload(
    upload: &Path,
    main_name: &str,
    limits: &ExtractLimits,
    temp_root: Option<&Path>,
) -> Result<Extracted, ArchiveError> {
    validate_main_name(main_name)?;

    let read_error = |source| ArchiveError::ReadUpload {
        path: upload.to_path_buf(),
        source,
    };
    let mut file = File::open(upload).map_err(read_error)?;
    let header = read_header(&mut file).map_err(read_error)?;
    let container = detect_container(&header);

    let first_read_error = Rc::new(RefCell::new(None));
    let input = BufReader::with_capacity(
        IO_BUFFER_BYTES,
        TrackedFile {
            file,
            first_error: Rc::clone(&first_read_error),
        },
    );

    let dir = create_temp_dir(temp_root)?;
    let mut extraction = Extraction {
        upload,
        container,
        main: dir.path().join(main_name),
        wal: dir.path().join(format!("{main_name}{WAL_SUFFIX}")),
        limit: limits.max_decompressed_bytes,
        decoded_bytes: 0,
        written_bytes: 0,
        first_read_error,
    };

    // After a panic, only the upload path, the container and the read-error slot of
    // `extraction` are used. The decoders never modify the first two, and the slot is only ever
    // replaced whole, so none of them can be left half-updated.
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| match container {
        Container::SevenZip => extraction.extract_seven_zip(input),
        Container::Zip => extraction.extract_zip(input),
        Container::Gzip => extraction.extract_gzip(input),
        Container::Plain => extraction.copy_plain(input),
    }));
    let has_wal = match outcome {
        Ok(result) => result?,
        Err(payload) => return Err(extraction.decoder_panic(payload)),
    };

    tracing::debug!(
        upload = %upload.display(),
        container = container.name(),
        bytes = extraction.written_bytes,
        has_wal,
        "extracted upload"
    );
    Ok(Extracted {
        main: extraction.main,
        wal: has_wal.then_some(extraction.wal),
        container,
        decompressed_bytes: extraction.written_bytes,
        dir,
    })
}

/// Rejects a `main_name` that is not a single plain file name.
fn validate_main_name(name: &str) -> Result<(), ArchiveError> {
    let is_plain_name =
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if is_plain_name {
        Ok(())
    } else {
        Err(ArchiveError::InvalidMainName {
            name: name.to_string(),
        })
    }
}

/// Reads up to [`HEADER_BYTES`] bytes and rewinds the file to its start.
fn read_header(file: &mut File) -> io::Result<Vec<u8>> {
    let mut header = Vec::new();
    Read::take(&mut *file, HEADER_BYTES).read_to_end(&mut header)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(header)
}

/// Creates the private temporary directory for the extracted files.
fn create_temp_dir(temp_root: Option<&Path>) -> Result<TempDir, ArchiveError> {
    let root = temp_root.map_or_else(std::env::temp_dir, Path::to_path_buf);

    let mut builder = tempfile::Builder::new();
    builder.prefix("hostview-extract-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }

    builder
        .tempdir_in(&root)
        .map_err(|source| ArchiveError::CreateTempDir { root, source })
}

/// Upload file that remembers its first I/O error. A decoder turns a failed read into its own
/// error, and the remembered error shows that the cause was the disk, not the content.
struct TrackedFile {
    file: File,
    first_error: Rc<RefCell<Option<io::Error>>>,
}

impl TrackedFile {
    /// Stores the first error and returns an equivalent error for the decoder.
    fn record(&self, error: io::Error) -> io::Error {
        let copy = io::Error::new(error.kind(), error.to_string());
        let mut slot = self.first_error.borrow_mut();
        if slot.is_none() {
            *slot = Some(error);
        }
        copy
    }
}

impl Read for TrackedFile {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self.file.read(buffer) {
            Err(error) if error.kind() != io::ErrorKind::Interrupted => Err(self.record(error)),
            result => result,
        }
    }
}

impl Seek for TrackedFile {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        match self.file.seek(position) {
            // A seek before the start of the file comes from an invalid offset in the archive,
            // so it is left for the decoder to report as corrupt content.
            Err(error) if error.kind() != io::ErrorKind::InvalidInput => Err(self.record(error)),
            result => result,
        }
    }
}

/// Indexes of the archive entries to extract.
struct Selection {
    main: usize,
    wal: Option<usize>,
}

/// Entry name and whether the selection skips the entry regardless of its name.
struct EntryInfo {
    name: String,
    is_directory: bool,
}

/// State of one extraction: where the files go and how many bytes were decoded so far.
struct Extraction<'a> {
    upload: &'a Path,
    container: Container,
    main: PathBuf,
    wal: PathBuf,
    limit: u64,
    /// Bytes decoded so far, including skipped entries. This is the count checked against `limit`.
    decoded_bytes: u64,
    /// Bytes written to `main` and `wal`.
    written_bytes: u64,
    first_read_error: Rc<RefCell<Option<io::Error>>>,
}

impl Extraction<'_> {
    /// Extracts the main entry and the WAL of a 7z archive. Returns whether a WAL was written.
    fn extract_seven_zip(&mut self, input: BufReader<TrackedFile>) -> Result<bool, ArchiveError> {
        let mut reader = ArchiveReader::new(input, Password::empty())
            .map_err(|error| self.seven_zip_error(error))?;
        // One decoder thread keeps memory use to a single decoder. The sevenz-rust2 0.25 reader
        // decodes in parallel only LZMA2 streams written with multi-threading support.
        reader.set_thread_count(1);

        let archive = reader.archive();
        let entries: Vec<EntryInfo> = archive
            .files
            .iter()
            .map(|entry| EntryInfo {
                name: entry.name.clone(),
                is_directory: entry.is_directory || entry.is_anti_item,
            })
            .collect();
        let selection = self.select_entries(&entries)?;

        let mut selected = std::iter::once(selection.main).chain(selection.wal);
        if selected.any(|index| archive.is_file_encrypted(index)) {
            return Err(self.encrypted());
        }

        // The reader passes references into `archive.files`, so the address identifies an entry
        // even when several entries share a name.
        let main_entry: *const ArchiveEntry = &archive.files[selection.main];
        let wal_entry: Option<*const ArchiveEntry> = selection
            .wal
            .map(|index| &archive.files[index] as *const ArchiveEntry);

        let main_path = self.main.clone();
        let wal_path = self.wal.clone();
        let mut written_main = false;
        let mut stopped_by: Option<ArchiveError> = None;
        let result = reader.for_each_entries(|entry, data| {
            let copied = if ptr::eq(entry, main_entry) {
                written_main = true;
                self.write_file(&main_path, data)
            } else if wal_entry.is_some_and(|wal| ptr::eq(entry, wal)) {
                self.write_file(&wal_path, data)
            } else {
                self.skip_data(data)
            };
            match copied {
                Ok(()) => Ok(true),
                Err(error) => {
                    // The returned error only ends the iteration. `stopped_by` keeps the cause.
                    stopped_by = Some(error);
                    Err(sevenz_rust2::Error::Other("extraction stopped".into()))
                }
            }
        });

        if let Some(error) = stopped_by {
            return Err(error);
        }
        result.map_err(|error| self.seven_zip_error(error))?;
        if !written_main {
            return Err(self.invalid("the decoder never reached the main entry".to_string(), None));
        }
        Ok(wal_entry.is_some())
    }

    /// Extracts the main entry and the WAL of a zip archive. Returns whether a WAL was written.
    fn extract_zip(&mut self, input: BufReader<TrackedFile>) -> Result<bool, ArchiveError> {
        let mut archive = ZipArchive::new(input).map_err(|error| self.zip_error(error))?;

        let mut entries = Vec::with_capacity(archive.len());
        let mut encrypted = Vec::with_capacity(archive.len());
        for index in 0..archive.len() {
            let entry = archive
                .by_index_data(index)
                .map_err(|error| self.zip_error(error))?;
            let name = match entry.name() {
                Ok(name) => name.into_owned(),
                Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
            };
            entries.push(EntryInfo {
                name,
                is_directory: entry.is_dir(),
            });
            encrypted.push(entry.encrypted());
        }
        let selection = self.select_entries(&entries)?;

        let mut targets = vec![(selection.main, self.main.clone())];
        if let Some(wal) = selection.wal {
            targets.push((wal, self.wal.clone()));
        }
        for (index, output) in targets {
            if encrypted[index] {
                return Err(self.encrypted());
            }
            let mut data = archive
                .by_index(index)
                .map_err(|error| self.zip_error(error))?;
            self.write_file(&output, &mut data)?;
        }
        Ok(selection.wal.is_some())
    }

    /// Decodes the first member of a gzip file into the main file. Returns `false` (no WAL).
    fn extract_gzip(&mut self, input: BufReader<TrackedFile>) -> Result<bool, ArchiveError> {
        let mut decoder = flate2::bufread::GzDecoder::new(input);
        let main_path = self.main.clone();
        self.write_file(&main_path, &mut decoder)?;
        Ok(false)
    }

    /// Copies an uncompressed upload into the main file. Returns `false` (no WAL).
    fn copy_plain(&mut self, mut input: BufReader<TrackedFile>) -> Result<bool, ArchiveError> {
        let main_path = self.main.clone();
        self.write_file(&main_path, &mut input)?;
        Ok(false)
    }

    /// Chooses the main entry and the WAL from the entry names.
    fn select_entries(&self, entries: &[EntryInfo]) -> Result<Selection, ArchiveError> {
        let mut main_candidates = Vec::new();
        let mut wal_candidates = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let is_ignored = IGNORED_SUFFIXES
                .iter()
                .any(|suffix| entry.name.ends_with(suffix));
            if entry.is_directory || is_ignored {
                continue;
            }
            if entry.name.ends_with(WAL_SUFFIX) {
                wal_candidates.push(index);
            } else {
                main_candidates.push(index);
            }
        }

        let names_of = |indexes: &[usize]| -> Vec<String> {
            indexes
                .iter()
                .map(|&index| entries[index].name.clone())
                .collect()
        };
        if main_candidates.len() > 1 {
            return Err(self.ambiguous("main file", names_of(&main_candidates)));
        }
        if wal_candidates.len() > 1 {
            return Err(self.ambiguous("WAL", names_of(&wal_candidates)));
        }
        let Some(&main) = main_candidates.first() else {
            return Err(ArchiveError::MissingEntry {
                path: self.upload.to_path_buf(),
                container: self.container,
                entries: entries.iter().map(|entry| entry.name.clone()).collect(),
            });
        };

        Ok(Selection {
            main,
            wal: wal_candidates.first().copied(),
        })
    }

    /// Writes decoded `data` to the new file `output` and counts it against the limit.
    fn write_file(&mut self, output: &Path, data: &mut dyn Read) -> Result<(), ArchiveError> {
        let write_error = |source| ArchiveError::WriteOutput {
            path: self.upload.to_path_buf(),
            output: output.to_path_buf(),
            source,
        };
        let file = File::create_new(output).map_err(write_error)?;
        let mut writer = BufWriter::with_capacity(IO_BUFFER_BYTES, file);

        let mut buffer = vec![0u8; IO_BUFFER_BYTES];
        loop {
            let length = self.read_chunk(data, &mut buffer)?;
            if length == 0 {
                break;
            }
            writer.write_all(&buffer[..length]).map_err(write_error)?;
            self.written_bytes += length as u64;
        }
        writer
            .into_inner()
            .map_err(|error| write_error(error.into_error()))?;
        Ok(())
    }

    /// Decodes and discards `data`, counting it against the limit.
    fn skip_data(&mut self, data: &mut dyn Read) -> Result<(), ArchiveError> {
        let mut buffer = vec![0u8; IO_BUFFER_BYTES];
        while self.read_chunk(data, &mut buffer)? > 0 {}
        Ok(())
    }

    /// Reads the next chunk of decoded data into `buffer` and counts it against the limit.
    /// Returns 0 at the end of the data.
    fn read_chunk(
        &mut self,
        data: &mut dyn Read,
        buffer: &mut [u8],
    ) -> Result<usize, ArchiveError> {
        loop {
            match data.read(buffer) {
                Ok(length) => {
                    self.decoded_bytes = self.decoded_bytes.saturating_add(length as u64);
                    if self.decoded_bytes > self.limit {
                        return Err(ArchiveError::TooLarge {
                            path: self.upload.to_path_buf(),
                            container: self.container,
                            limit: self.limit,
                        });
                    }
                    return Ok(length);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(self.invalid(error.to_string(), Some(Box::new(error)))),
            }
        }
    }

    /// Returns [`ArchiveError::ReadUpload`] when reading the upload failed at some point. A
    /// decoder error that follows such a failure is caused by the read, not by the content.
    fn take_read_failure(&self) -> Option<ArchiveError> {
        let source = self.first_read_error.borrow_mut().take()?;
        Some(ArchiveError::ReadUpload {
            path: self.upload.to_path_buf(),
            source,
        })
    }

    /// Returns the error for a failed decode: the read failure if there was one, and
    /// [`ArchiveError::Invalid`] otherwise.
    fn invalid(&self, reason: String, source: Option<BoxedSource>) -> ArchiveError {
        if let Some(read_failure) = self.take_read_failure() {
            return read_failure;
        }
        ArchiveError::Invalid {
            path: self.upload.to_path_buf(),
            container: self.container,
            reason,
            source,
        }
    }

    fn encrypted(&self) -> ArchiveError {
        ArchiveError::Encrypted {
            path: self.upload.to_path_buf(),
            container: self.container,
        }
    }

    fn unsupported(&self, feature: String, source: Option<BoxedSource>) -> ArchiveError {
        ArchiveError::Unsupported {
            feature,
            path: self.upload.to_path_buf(),
            container: self.container,
            source,
        }
    }

    fn ambiguous(&self, role: &'static str, entries: Vec<String>) -> ArchiveError {
        ArchiveError::AmbiguousEntries {
            path: self.upload.to_path_buf(),
            container: self.container,
            role,
            entries,
        }
    }

    /// Converts an error of the 7z reader.
    fn seven_zip_error(&self, error: sevenz_rust2::Error) -> ArchiveError {
        use sevenz_rust2::Error as SevenZipError;

        if let Some(read_failure) = self.take_read_failure() {
            return read_failure;
        }
        match error {
            SevenZipError::PasswordRequired | SevenZipError::MaybeBadPassword(_) => {
                self.encrypted()
            }
            // This build has no AES decoder, so an encrypted header or entry shows up as an
            // unsupported method named "AES256_SHA256".
            SevenZipError::UnsupportedCompressionMethod(ref method) if method.contains("AES") => {
                self.encrypted()
            }
            SevenZipError::UnsupportedCompressionMethod(ref method) => {
                let feature = format!("compression method {method}");
                self.unsupported(feature, Some(Box::new(error)))
            }
            // Every 7z format version so far is 0.x, so another version number comes from a
            // corrupt signature header and falls through to `invalid` below.
            SevenZipError::Unsupported(_) | SevenZipError::ExternalUnsupported => {
                self.unsupported(describe_seven_zip_error(&error), Some(Box::new(error)))
            }
            _ => self.invalid(describe_seven_zip_error(&error), Some(Box::new(error))),
        }
    }

    /// Converts an error of the zip reader.
    fn zip_error(&self, error: ZipError) -> ArchiveError {
        if let Some(read_failure) = self.take_read_failure() {
            return read_failure;
        }
        match error {
            ZipError::UnsupportedArchive(message) if message == ZipError::PASSWORD_REQUIRED => {
                self.encrypted()
            }
            ZipError::InvalidPassword => self.encrypted(),
            ZipError::UnsupportedArchive(message) => {
                self.unsupported(message.to_string(), Some(Box::new(error)))
            }
            ZipError::CompressionMethodNotSupported(method) => {
                let feature = format!("compression method {method}");
                self.unsupported(feature, Some(Box::new(error)))
            }
            _ => self.invalid(error.to_string(), Some(Box::new(error))),
        }
    }

    /// Converts a panic caught inside a decoder into [`ArchiveError::Invalid`].
    fn decoder_panic(&self, payload: Box<dyn Any + Send>) -> ArchiveError {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_string()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "panic payload is not a string".to_string()
        };
        tracing::warn!(
            upload = %self.upload.display(),
            container = self.container.name(),
            %message,
            "decoder panicked; treating the upload as invalid"
        );
        self.invalid(format!("decoder panicked: {message}"), None)
    }
}

/// Describes a 7z reader error in words. The crate's `Display` prints the `Debug` form, which
/// buries the I/O message in struct syntax.
fn describe_seven_zip_error(error: &sevenz_rust2::Error) -> String {
    use sevenz_rust2::Error as SevenZipError;

    match error {
        SevenZipError::Io(source, context) if !context.is_empty() => format!("{context}: {source}"),
        SevenZipError::FileOpen(source, name) => format!("{name}: {source}"),
        SevenZipError::Io(source, _) => source.to_string(),
        SevenZipError::Other(message) | SevenZipError::Unsupported(message) => message.to_string(),
        SevenZipError::BadSignature(_) => "bad signature".to_string(),
        SevenZipError::ChecksumVerificationFailed => "CRC mismatch in decoded data".to_string(),
        SevenZipError::NextHeaderCrcMismatch => "CRC mismatch in the archive header".to_string(),
        SevenZipError::ExternalUnsupported => {
            "header data stored in an additional stream".to_string()
        }
        SevenZipError::UnsupportedVersion { major, minor } => {
            format!("unknown format version {major}.{minor}")
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::Cursor;

    use flate2::Compression;
    use flate2::write::GzEncoder;
    use zip::CompressionMethod;
    use zip::write::{SimpleFileOptions, ZipWriter};

    use super::*;

    const MAIN_NAME: &str = "session.db";
    const NO_LIMIT: u64 = u64::MAX;
    /// 7z coder id of the Copy method, which stores data uncompressed.
    const COPY_CODER: &[u8] = &[0x00];
    /// 7z coder id of AES-256 with SHA-256 key derivation.
    const AES_CODER: &[u8] = &[0x06, 0xF1, 0x07, 0x01];

    /// Upload directory and a separate root for the temporary extraction directories, so a
    /// test can check that nothing is left behind.
    struct Fixture {
        dir: TempDir,
        temp_root: PathBuf,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let temp_root = dir.path().join("extract");
            fs::create_dir(&temp_root).unwrap();
            Fixture { dir, temp_root }
        }

        fn upload(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.dir.path().join(name);
            fs::write(&path, bytes).unwrap();
            path
        }

        fn extract(&self, upload: &Path, limit: u64) -> Result<Extracted, ArchiveError> {
            let limits = ExtractLimits {
                max_decompressed_bytes: limit,
            };
            extract_upload(upload, MAIN_NAME, &limits, Some(&self.temp_root))
        }

        fn temp_root_is_empty(&self) -> bool {
            fs::read_dir(&self.temp_root).unwrap().next().is_none()
        }
    }

    fn gzip_bytes(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Builds a zip archive with deflated entries. A name ending in `/` becomes a directory.
    fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            if name.ends_with('/') {
                writer.add_directory(*name, options).unwrap();
            } else {
                writer.start_file(*name, options).unwrap();
                writer.write_all(data).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        crc.sum()
    }

    /// Appends a 7z variable-length number: the count of leading one bits in the first byte is
    /// the number of extra little-endian bytes, and the rest of the first byte contains the high bits.
    fn push_seven_zip_number(buffer: &mut Vec<u8>, value: u64) {
        let extra_bytes = (0..8u32)
            .find(|&extra| value < 1u64 << (7 * (extra + 1)))
            .unwrap_or(8);
        let marker = if extra_bytes == 0 {
            0
        } else {
            0xFFu8 << (8 - extra_bytes)
        };
        let high_bits = value.checked_shr(8 * extra_bytes).unwrap_or(0) as u8;
        buffer.push(marker | high_bits);
        buffer.extend_from_slice(&value.to_le_bytes()[..extra_bytes as usize]);
    }

    /// Builds a non-solid 7z archive in which each entry is its own folder with the single coder
    /// `coder_id` and no coder properties. With [`COPY_CODER`] the data is stored as is. The
    /// layout follows the 7z format description (`7zFormat.txt` of the LZMA SDK).
    fn seven_zip_bytes(entries: &[(&str, &[u8])], coder_id: &[u8]) -> Vec<u8> {
        let count = entries.len() as u64;
        let packed: Vec<u8> = entries
            .iter()
            .flat_map(|(_, data)| data.iter().copied())
            .collect();

        let mut header = vec![0x01, 0x04]; // Header, MainStreamsInfo
        header.push(0x06); // PackInfo
        push_seven_zip_number(&mut header, 0); // position of the packed streams
        push_seven_zip_number(&mut header, count);
        header.push(0x09); // Size
        for (_, data) in entries {
            push_seven_zip_number(&mut header, data.len() as u64);
        }
        header.push(0x00); // End of PackInfo

        header.extend_from_slice(&[0x07, 0x0B]); // UnPackInfo, Folder
        push_seven_zip_number(&mut header, count);
        header.push(0x00); // folders stored inline
        for _ in entries {
            push_seven_zip_number(&mut header, 1); // one coder
            header.push(coder_id.len() as u8); // simple coder, no properties
            header.extend_from_slice(coder_id);
        }
        header.push(0x0C); // CodersUnPackSize
        for (_, data) in entries {
            push_seven_zip_number(&mut header, data.len() as u64);
        }
        header.push(0x00); // End of UnPackInfo

        // One stream per folder is the default, so SubStreamsInfo only carries the CRCs.
        header.extend_from_slice(&[0x08, 0x0A, 0x01]); // SubStreamsInfo, CRC, all defined
        for (_, data) in entries {
            header.extend_from_slice(&crc32(data).to_le_bytes());
        }
        header.push(0x00); // End of SubStreamsInfo
        header.push(0x00); // End of MainStreamsInfo

        header.push(0x05); // FilesInfo
        push_seven_zip_number(&mut header, count);
        let mut names = vec![0x00]; // names stored inline
        for (name, _) in entries {
            for unit in name.encode_utf16().chain([0]) {
                names.extend_from_slice(&unit.to_le_bytes());
            }
        }
        header.push(0x11); // Name
        push_seven_zip_number(&mut header, names.len() as u64);
        header.extend_from_slice(&names);
        header.push(0x00); // End of FilesInfo
        header.push(0x00); // End of Header

        let mut start_header = Vec::new();
        start_header.extend_from_slice(&(packed.len() as u64).to_le_bytes());
        start_header.extend_from_slice(&(header.len() as u64).to_le_bytes());
        start_header.extend_from_slice(&crc32(&header).to_le_bytes());

        let mut archive = SEVEN_ZIP_SIGNATURE.to_vec();
        archive.extend_from_slice(&[0x00, 0x04]); // format version 0.4
        archive.extend_from_slice(&crc32(&start_header).to_le_bytes());
        archive.extend_from_slice(&start_header);
        archive.extend_from_slice(&packed);
        archive.extend_from_slice(&header);
        archive
    }

    /// Deterministic xorshift generator, so garbage inputs are reproducible.
    fn pseudo_random_bytes(seed: u64, length: usize) -> Vec<u8> {
        let mut state = seed | 1;
        (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    #[test]
    fn detect_container_matches_signatures() {
        let cases: [(&[u8], Container); 8] = [
            (
                &[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0x00, 0x04],
                Container::SevenZip,
            ),
            (&[0x50, 0x4B, 0x03, 0x04, 0x14, 0x00], Container::Zip),
            (&[0x50, 0x4B, 0x05, 0x06, 0x00, 0x00], Container::Zip),
            (&[0x1F, 0x8B, 0x08, 0x00], Container::Gzip),
            (b"SQLite format 3\0", Container::Plain),
            (&[0x50, 0x4B, 0x07, 0x08], Container::Plain),
            (&[0x37, 0x7A, 0xBC, 0xAF, 0x27], Container::Plain),
            (&[], Container::Plain),
        ];
        for (header, expected) in cases {
            assert_eq!(detect_container(header), expected, "header {header:02X?}");
        }
    }

    #[test]
    fn container_names_are_stable() {
        assert_eq!(Container::SevenZip.name(), "7z");
        assert_eq!(Container::Zip.name(), "zip");
        assert_eq!(Container::Gzip.name(), "gzip");
        assert_eq!(Container::Plain.name(), "plain");
        assert_eq!(Container::SevenZip.to_string(), "7z");
    }

    #[test]
    fn extract_limits_default_is_four_gib() {
        assert_eq!(ExtractLimits::default().max_decompressed_bytes, 4 << 30);
    }

    #[test]
    fn extract_plain_copies_upload() {
        let fixture = Fixture::new();
        let content = b"SQLite format 3\0 plain database".to_vec();
        let upload = fixture.upload("1468852623282_stats.db", &content);

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        assert_eq!(extracted.container, Container::Plain);
        assert_eq!(extracted.main, extracted.dir.path().join(MAIN_NAME));
        assert_eq!(fs::read(&extracted.main).unwrap(), content);
        assert_eq!(extracted.wal, None);
        assert_eq!(extracted.decompressed_bytes, content.len() as u64);
        assert_eq!(
            fs::read(&upload).unwrap(),
            content,
            "upload must stay untouched"
        );
        assert!(extracted.dir.path().starts_with(&fixture.temp_root));
    }

    #[test]
    fn extract_empty_file_gives_empty_main() {
        let fixture = Fixture::new();
        let upload = fixture.upload("empty.zip", b"");

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        assert_eq!(extracted.container, Container::Plain);
        assert_eq!(fs::read(&extracted.main).unwrap(), b"");
        assert_eq!(extracted.decompressed_bytes, 0);
    }

    #[test]
    fn extract_removes_temp_dir_on_drop() {
        let fixture = Fixture::new();
        let upload = fixture.upload("plain.db", b"data");

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();
        let dir = extracted.dir.path().to_path_buf();
        assert!(dir.is_dir());
        drop(extracted);

        assert!(!dir.exists());
        assert!(fixture.temp_root_is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn extract_temp_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;

        let fixture = Fixture::new();
        let upload = fixture.upload("plain.db", b"data");

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        let mode = fs::metadata(extracted.dir.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn extract_plain_at_limit_is_accepted() {
        let fixture = Fixture::new();
        let upload = fixture.upload("plain.db", &[7u8; 1000]);

        let extracted = fixture.extract(&upload, 1000).unwrap();

        assert_eq!(extracted.decompressed_bytes, 1000);
    }

    #[test]
    fn extract_plain_over_limit_is_too_large() {
        let fixture = Fixture::new();
        let upload = fixture.upload("plain.db", &[7u8; 1001]);

        let error = fixture.extract(&upload, 1000).unwrap_err();

        assert!(
            matches!(error, ArchiveError::TooLarge { limit: 1000, .. }),
            "{error}"
        );
        assert!(error.is_permanent());
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_gzip_decodes_stream() {
        let fixture = Fixture::new();
        let content = b"SQLite format 3\0 gzip database".repeat(100);
        let upload = fixture.upload("x_stats.db.zip", &gzip_bytes(&content));

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        assert_eq!(extracted.container, Container::Gzip);
        assert_eq!(fs::read(&extracted.main).unwrap(), content);
        assert_eq!(extracted.wal, None);
        assert_eq!(extracted.decompressed_bytes, content.len() as u64);
    }

    #[test]
    fn extract_gzip_bomb_is_too_large() {
        let fixture = Fixture::new();
        let bomb = gzip_bytes(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024, "the bomb should compress well");
        let upload = fixture.upload("bomb.gz", &bomb);

        let error = fixture.extract(&upload, 1024 * 1024).unwrap_err();

        assert!(matches!(error, ArchiveError::TooLarge { .. }), "{error}");
        assert!(error.is_permanent());
        assert!(
            error
                .to_string()
                .contains("limit of 1048576 decompressed bytes"),
            "{error}"
        );
        assert!(
            fixture.temp_root_is_empty(),
            "temporary directory must be removed"
        );
    }

    #[test]
    fn extract_gzip_truncated_is_invalid() {
        let fixture = Fixture::new();
        let gzip = gzip_bytes(&pseudo_random_bytes(1, 4096));
        let upload = fixture.upload("cut.gz", &gzip[..gzip.len() / 2]);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(
                error,
                ArchiveError::Invalid {
                    container: Container::Gzip,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
        assert!(
            error.to_string().starts_with("invalid gzip file "),
            "{error}"
        );
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_gzip_bad_crc_is_invalid() {
        let fixture = Fixture::new();
        let mut gzip = gzip_bytes(b"some database content");
        // The trailer is CRC-32 then the size, 4 bytes each.
        let crc_position = gzip.len() - 8;
        gzip[crc_position] ^= 0xFF;
        let upload = fixture.upload("bad_crc.gz", &gzip);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(matches!(error, ArchiveError::Invalid { .. }), "{error}");
        assert!(error.is_permanent());
    }

    #[test]
    fn extract_zip_single_entry() {
        let fixture = Fixture::new();
        let content = b"SQLite format 3\0 zip database".repeat(50);
        let upload = fixture.upload("x_stats.db.zip", &zip_bytes(&[("x_stats.db", &content)]));

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        assert_eq!(extracted.container, Container::Zip);
        assert_eq!(fs::read(&extracted.main).unwrap(), content);
        assert_eq!(extracted.wal, None);
        assert_eq!(extracted.decompressed_bytes, content.len() as u64);
    }

    #[test]
    fn extract_zip_with_wal() {
        let fixture = Fixture::new();
        let archive = zip_bytes(&[
            ("data/", b""),
            ("data/x_stats.db", b"main database"),
            ("data/x_stats.db-wal", b"write-ahead log"),
            ("data/x_stats.db-shm", b"shared memory"),
            ("data/x_stats.db-journal", b"journal"),
        ]);
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        assert_eq!(fs::read(&extracted.main).unwrap(), b"main database");
        let wal = extracted.wal.clone().unwrap();
        assert_eq!(wal, extracted.dir.path().join("session.db-wal"));
        assert_eq!(fs::read(&wal).unwrap(), b"write-ahead log");
        assert_eq!(extracted.decompressed_bytes, 13 + 15);
        let written = fs::read_dir(extracted.dir.path()).unwrap().count();
        assert_eq!(written, 2, "only the main file and the WAL are written");
    }

    #[test]
    fn extract_zip_two_databases_is_ambiguous() {
        let fixture = Fixture::new();
        let archive = zip_bytes(&[("a_stats.db", b"first"), ("b_stats.db", b"second")]);
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(
                error,
                ArchiveError::AmbiguousEntries {
                    role: "main file",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
        let message = error.to_string();
        assert!(message.contains("\"a_stats.db\""), "{message}");
        assert!(message.contains("\"b_stats.db\""), "{message}");
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_zip_two_wals_is_ambiguous() {
        let fixture = Fixture::new();
        let archive = zip_bytes(&[
            ("x_stats.db", b"main"),
            ("x_stats.db-wal", b"first"),
            ("y_stats.db-wal", b"second"),
        ]);
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(error, ArchiveError::AmbiguousEntries { role: "WAL", .. }),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[test]
    fn extract_zip_without_file_is_missing_entry() {
        let fixture = Fixture::new();
        let archive = zip_bytes(&[
            ("data/", b""),
            ("data/x_stats.db-shm", b"shared memory"),
            ("data/x_stats.db-wal", b"write-ahead log"),
        ]);
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(error, ArchiveError::MissingEntry { .. }),
            "{error}"
        );
        assert!(error.is_permanent());
        assert!(
            error.to_string().contains("\"data/x_stats.db-shm\""),
            "{error}"
        );
    }

    #[test]
    fn extract_empty_zip_is_missing_entry() {
        let fixture = Fixture::new();
        let archive = zip_bytes(&[]);
        assert!(archive.starts_with(ZIP_END_OF_CENTRAL_DIRECTORY_SIGNATURE));
        let upload = fixture.upload("empty.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(matches!(
            error,
            ArchiveError::MissingEntry {
                container: Container::Zip,
                ..
            }
        ));
        assert!(
            error.to_string().ends_with("entries found: none"),
            "{error}"
        );
    }

    #[test]
    fn extract_zip_parent_entry_name_stays_inside() {
        let fixture = Fixture::new();
        let archive = zip_bytes(&[("../../evil", b"payload")]);
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        assert_eq!(fs::read(&extracted.main).unwrap(), b"payload");
        assert!(extracted.main.starts_with(extracted.dir.path()));
        assert!(!fixture.dir.path().join("evil").exists());
        assert!(!fixture.temp_root.join("evil").exists());
    }

    #[test]
    fn extract_zip_bomb_is_too_large() {
        let fixture = Fixture::new();
        let archive = zip_bytes(&[("x_stats.db", &vec![0u8; 10 * 1024 * 1024])]);
        let upload = fixture.upload("bomb.zip", &archive);

        let error = fixture.extract(&upload, 1024 * 1024).unwrap_err();

        assert!(matches!(
            error,
            ArchiveError::TooLarge {
                container: Container::Zip,
                ..
            }
        ));
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_zip_bad_crc_is_invalid() {
        let fixture = Fixture::new();
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        writer.start_file("x_stats.db", options).unwrap();
        writer.write_all(b"stored database content").unwrap();
        let mut archive = writer.finish().unwrap().into_inner();
        let data_position = archive
            .windows(6)
            .position(|window| window == b"stored")
            .unwrap();
        archive[data_position] = b'S';
        let upload = fixture.upload("bad_crc.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(
                error,
                ArchiveError::Invalid {
                    container: Container::Zip,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_zip_truncated_copies_fail_permanently() {
        let fixture = Fixture::new();
        let archive = zip_bytes(&[("x_stats.db", &pseudo_random_bytes(2, 200))]);

        // A copy shorter than the 4-byte signature is an uncompressed file, not a zip.
        for length in 4..archive.len() {
            let upload = fixture.upload("cut.zip", &archive[..length]);
            let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();
            assert!(error.is_permanent(), "length {length}: {error}");
        }
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_zip_encrypted_entry_is_encrypted() {
        let fixture = Fixture::new();
        let mut archive = zip_bytes(&[("x_stats.db", b"secret")]);
        // Set bit 0 (encrypted) of the general purpose flags in the local and the central header.
        for (signature, flags_offset) in [
            (&[0x50, 0x4B, 0x03, 0x04], 6),
            (&[0x50, 0x4B, 0x01, 0x02], 8),
        ] {
            let header = archive
                .windows(4)
                .position(|window| window == signature)
                .unwrap();
            archive[header + flags_offset] |= 0x01;
        }
        let upload = fixture.upload("encrypted.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(
                error,
                ArchiveError::Encrypted {
                    container: Container::Zip,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[test]
    fn extract_seven_zip_with_wal() {
        let fixture = Fixture::new();
        let archive = seven_zip_bytes(
            &[
                ("x_stats.db", b"main database"),
                ("x_stats.db-shm", b"shared memory"),
                ("x_stats.db-wal", b"write-ahead log"),
            ],
            COPY_CODER,
        );
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        assert_eq!(extracted.container, Container::SevenZip);
        assert_eq!(fs::read(&extracted.main).unwrap(), b"main database");
        assert_eq!(
            fs::read(extracted.wal.as_ref().unwrap()).unwrap(),
            b"write-ahead log"
        );
        assert_eq!(extracted.decompressed_bytes, 13 + 15);
    }

    #[test]
    fn extract_seven_zip_parent_entry_name_stays_inside() {
        let fixture = Fixture::new();
        let archive = seven_zip_bytes(&[("../../evil", b"payload")], COPY_CODER);
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let extracted = fixture.extract(&upload, NO_LIMIT).unwrap();

        assert_eq!(fs::read(&extracted.main).unwrap(), b"payload");
        assert!(!fixture.dir.path().join("evil").exists());
        assert!(!fixture.temp_root.join("evil").exists());
    }

    #[test]
    fn extract_seven_zip_two_databases_is_ambiguous() {
        let fixture = Fixture::new();
        let archive = seven_zip_bytes(&[("a.db", b"first"), ("b.db", b"second")], COPY_CODER);
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(
                error,
                ArchiveError::AmbiguousEntries {
                    container: Container::SevenZip,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[test]
    fn extract_seven_zip_skipped_entries_count_toward_limit() {
        let fixture = Fixture::new();
        let archive = seven_zip_bytes(
            &[("x_stats.db-shm", &[0u8; 900]), ("x_stats.db", &[1u8; 200])],
            COPY_CODER,
        );
        let upload = fixture.upload("x_stats.db.zip", &archive);

        let error = fixture.extract(&upload, 1000).unwrap_err();

        assert!(matches!(
            error,
            ArchiveError::TooLarge {
                container: Container::SevenZip,
                ..
            }
        ));
        assert!(fixture.temp_root_is_empty());
        let extracted = fixture.extract(&upload, 1100).unwrap();
        assert_eq!(extracted.decompressed_bytes, 200);
    }

    #[test]
    fn extract_seven_zip_bad_crc_is_invalid() {
        let fixture = Fixture::new();
        let mut archive = seven_zip_bytes(&[("x_stats.db", b"stored database")], COPY_CODER);
        // The packed data starts right after the 32-byte signature header.
        archive[32] ^= 0xFF;
        let upload = fixture.upload("bad_crc.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(
                error,
                ArchiveError::Invalid {
                    container: Container::SevenZip,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_seven_zip_encrypted_entry_is_encrypted() {
        let fixture = Fixture::new();
        let archive = seven_zip_bytes(&[("x_stats.db", b"ciphertext")], AES_CODER);
        let upload = fixture.upload("encrypted.zip", &archive);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(
                error,
                ArchiveError::Encrypted {
                    container: Container::SevenZip,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
    }

    #[test]
    fn extract_seven_zip_garbage_after_signature_is_invalid() {
        let fixture = Fixture::new();
        let mut bytes = SEVEN_ZIP_SIGNATURE.to_vec();
        bytes.extend_from_slice(&pseudo_random_bytes(3, 4096));
        let upload = fixture.upload("garbage.zip", &bytes);

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(
            matches!(
                error,
                ArchiveError::Invalid {
                    container: Container::SevenZip,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_permanent());
        let expected_start = format!("invalid 7z archive {}: ", upload.display());
        assert!(error.to_string().starts_with(&expected_start), "{error}");
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_seven_zip_truncated_copies_fail_permanently() {
        let fixture = Fixture::new();
        let archive = seven_zip_bytes(&[("x_stats.db", &pseudo_random_bytes(4, 100))], COPY_CODER);

        // A copy shorter than the 6-byte signature is an uncompressed file, not a 7z archive.
        for length in 6..archive.len() {
            let upload = fixture.upload("cut.zip", &archive[..length]);
            let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();
            assert!(error.is_permanent(), "length {length}: {error}");
        }
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_garbage_after_any_signature_never_panics() {
        let fixture = Fixture::new();
        let signatures: [&[u8]; 4] = [
            SEVEN_ZIP_SIGNATURE,
            ZIP_LOCAL_FILE_SIGNATURE,
            ZIP_END_OF_CENTRAL_DIRECTORY_SIGNATURE,
            GZIP_SIGNATURE,
        ];
        for signature in signatures {
            for seed in 1..=50u64 {
                let mut bytes = signature.to_vec();
                bytes.extend_from_slice(&pseudo_random_bytes(seed, (seed as usize) * 37));
                let upload = fixture.upload("garbage.zip", &bytes);

                if let Err(error) = fixture.extract(&upload, 1024 * 1024) {
                    assert!(error.is_permanent(), "seed {seed}: {error}");
                }
            }
        }
    }

    #[test]
    fn extract_rejects_invalid_main_name() {
        let fixture = Fixture::new();
        let upload = fixture.upload("plain.db", b"data");

        for name in ["", ".", "..", "a/b", "a\\b", "a\0b", "/etc/passwd"] {
            let result = extract_upload(
                &upload,
                name,
                &ExtractLimits::default(),
                Some(&fixture.temp_root),
            );
            let error = result.unwrap_err();
            assert!(
                matches!(error, ArchiveError::InvalidMainName { .. }),
                "{name:?}: {error}"
            );
            assert!(error.is_permanent());
        }
        assert!(fixture.temp_root_is_empty());
    }

    #[test]
    fn extract_missing_upload_is_transient() {
        let fixture = Fixture::new();
        let upload = fixture.dir.path().join("missing.zip");

        let error = fixture.extract(&upload, NO_LIMIT).unwrap_err();

        assert!(matches!(error, ArchiveError::ReadUpload { .. }), "{error}");
        assert!(!error.is_permanent());
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn extract_directory_upload_is_transient_read_error() {
        let fixture = Fixture::new();

        let error = fixture.extract(fixture.dir.path(), NO_LIMIT).unwrap_err();

        assert!(matches!(error, ArchiveError::ReadUpload { .. }), "{error}");
        assert!(!error.is_permanent());
    }

    #[test]
    fn extract_missing_temp_root_is_transient() {
        let fixture = Fixture::new();
        let upload = fixture.upload("plain.db", b"data");
        let missing_root = fixture.dir.path().join("no-such-directory");

        let result = extract_upload(
            &upload,
            MAIN_NAME,
            &ExtractLimits::default(),
            Some(&missing_root),
        );
        let error = result.unwrap_err();

        assert!(
            matches!(error, ArchiveError::CreateTempDir { .. }),
            "{error}"
        );
        assert!(!error.is_permanent());
    }

    #[test]
    fn decode_error_after_read_failure_is_transient() {
        let upload = PathBuf::from("/uploads/x.zip");
        let first_read_error = Rc::new(RefCell::new(Some(io::Error::other("device error"))));
        let extraction = Extraction {
            upload: &upload,
            container: Container::SevenZip,
            main: PathBuf::from("main"),
            wal: PathBuf::from("main-wal"),
            limit: NO_LIMIT,
            decoded_bytes: 0,
            written_bytes: 0,
            first_read_error,
        };

        let error = extraction.seven_zip_error(sevenz_rust2::Error::ChecksumVerificationFailed);

        assert!(matches!(error, ArchiveError::ReadUpload { .. }), "{error}");
        assert!(!error.is_permanent());
    }

    #[test]
    fn format_entry_names_limits_the_list() {
        let names: Vec<String> = (0..15).map(|index| format!("entry{index}")).collect();

        let listed = format_entry_names(&names);

        assert!(listed.starts_with("\"entry0\", \"entry1\""), "{listed}");
        assert!(listed.contains("\"entry9\""), "{listed}");
        assert!(!listed.contains("\"entry10\""), "{listed}");
        assert!(listed.ends_with("and 5 more"), "{listed}");
    }
}
