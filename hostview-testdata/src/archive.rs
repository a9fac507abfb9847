//! Compressed uploads: 7z archives named `.zip` as the Windows client writes them, genuine
//! zip archives and gzip files.
//!
//! All writers store the fixed modification time [`ARCHIVE_ENTRY_TIME_UNIX_S`] instead of the
//! source file's, so their output depends only on the input bytes and the member name.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use sevenz_rust2::encoder_options::{Lzma2Options, LzmaOptions};
use sevenz_rust2::{ArchiveEntry, ArchiveWriter, EncoderConfiguration, NtTime};

/// Modification time stored for every archive member: 2020-01-01T00:00:00Z, in Unix seconds.
pub const ARCHIVE_ENTRY_TIME_UNIX_S: i64 = 1_577_836_800;

/// Compression method of a 7z archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SevenZipMethod {
    /// LZMA, which the Windows client uses for session databases.
    Lzma,
    /// LZMA2, which the Windows client uses for packet captures.
    Lzma2,
}

/// Preset of the LZMA encoder, from 0 (fastest) to 9. On 20 MB of `large_session` output,
/// preset 1 compressed 9 MB/s and preset 6 only 1.2 MB/s (sevenz-rust2 0.25, release build, one
/// thread on a 2-core machine). Decoders read every preset the same way.
const LZMA_PRESET: u32 = 1;

/// Windows `FILE_ATTRIBUTE_ARCHIVE`, which 7-Zip records for ordinary files on Windows.
const FILE_ATTRIBUTE_ARCHIVE: u32 = 0x20;

/// Writes `src` into a new 7z archive at `dest` as the single member `member_name`, compressed
/// with LZMA like the session databases the Windows client uploads.
pub fn write_7z(src: &Path, dest: &Path, member_name: &str) -> Result<()> {
    write_7z_with_method(src, dest, member_name, SevenZipMethod::Lzma)
}

/// Writes `src` into a new 7z archive at `dest` as the single member `member_name`, compressed
/// with `method`.
pub fn write_7z_with_method(
    src: &Path,
    dest: &Path,
    member_name: &str,
    method: SevenZipMethod,
) -> Result<()> {
    let input = File::open(src).with_context(|| format!("failed to open {}", src.display()))?;
    let configuration: EncoderConfiguration = match method {
        SevenZipMethod::Lzma => LzmaOptions::from_level(LZMA_PRESET).into(),
        SevenZipMethod::Lzma2 => Lzma2Options::from_level(LZMA_PRESET).into(),
    };

    let output =
        File::create(dest).with_context(|| format!("failed to create {}", dest.display()))?;
    let mut writer = ArchiveWriter::new(output)
        .with_context(|| format!("failed to start 7z archive {}", dest.display()))?;
    writer.set_content_methods(vec![configuration]);

    let mut entry = ArchiveEntry::new_file(member_name);
    entry.has_last_modified_date = true;
    entry.last_modified_date = nt_time_from_unix_s(ARCHIVE_ENTRY_TIME_UNIX_S);
    entry.has_windows_attributes = true;
    entry.windows_attributes = FILE_ATTRIBUTE_ARCHIVE;
    writer
        .push_archive_entry(entry, Some(BufReader::new(input)))
        .with_context(|| {
            format!(
                "failed to compress {} into {}",
                src.display(),
                dest.display()
            )
        })?;
    writer
        .finish()
        .with_context(|| format!("failed to finish 7z archive {}", dest.display()))?;
    Ok(())
}

/// Converts Unix seconds to Windows file time: 100 ns ticks since 1601-01-01.
fn nt_time_from_unix_s(unix_s: i64) -> NtTime {
    const SECONDS_1601_TO_1970: i64 = 11_644_473_600;
    let ticks = (unix_s + SECONDS_1601_TO_1970) * 10_000_000;
    NtTime::new(u64::try_from(ticks).unwrap_or(0))
}

/// Writes `src` into a new zip archive at `dest` as the single member `member_name`, compressed
/// with deflate.
pub fn write_zip(src: &Path, dest: &Path, member_name: &str) -> Result<()> {
    write_zip_entries(dest, &[(member_name, src)])
}

/// Writes a new zip archive at `dest` with one deflate-compressed member per
/// `(member_name, source file)` pair, in the given order.
pub fn write_zip_entries(dest: &Path, entries: &[(&str, &Path)]) -> Result<()> {
    let fixed_time = zip::DateTime::from_date_and_time(2020, 1, 1, 0, 0, 0)
        .context("invalid zip modification time")?;
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(fixed_time)
        .unix_permissions(0o644)
        .system(zip::System::Unix);

    let output =
        File::create(dest).with_context(|| format!("failed to create {}", dest.display()))?;
    let mut writer = zip::ZipWriter::new(BufWriter::new(output));
    for &(member_name, src) in entries {
        let mut input =
            File::open(src).with_context(|| format!("failed to open {}", src.display()))?;
        writer
            .start_file(member_name, options)
            .with_context(|| format!("failed to add {member_name} to {}", dest.display()))?;
        io::copy(&mut input, &mut writer).with_context(|| {
            format!(
                "failed to compress {} into {}",
                src.display(),
                dest.display()
            )
        })?;
    }
    writer
        .finish()
        .with_context(|| format!("failed to finish zip archive {}", dest.display()))?
        .flush()?;
    Ok(())
}

/// Writes `src` gzip-compressed to `dest`. The gzip header stores the file name of `src`, as
/// the `gzip` tool does.
pub fn write_gzip(src: &Path, dest: &Path) -> Result<()> {
    let Some(file_name) = src.file_name() else {
        bail!("source path {} has no file name", src.display());
    };
    let mut input = File::open(src).with_context(|| format!("failed to open {}", src.display()))?;
    let output =
        File::create(dest).with_context(|| format!("failed to create {}", dest.display()))?;

    let mut encoder = flate2::GzBuilder::new()
        .filename(file_name.as_encoded_bytes())
        .mtime(ARCHIVE_ENTRY_TIME_UNIX_S as u32)
        .write(BufWriter::new(output), flate2::Compression::default());
    io::copy(&mut input, &mut encoder).with_context(|| {
        format!(
            "failed to compress {} into {}",
            src.display(),
            dest.display()
        )
    })?;
    encoder
        .finish()
        .with_context(|| format!("failed to finish gzip file {}", dest.display()))?
        .flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Bytes that compress well but are not trivially repetitive.
    fn sample_bytes() -> Vec<u8> {
        (0..10_000_u32)
            .flat_map(|i| format!("row {i} value {}\n", i % 97).into_bytes())
            .collect()
    }

    fn read_7z(path: &Path) -> (Vec<String>, Vec<u8>) {
        let mut reader =
            sevenz_rust2::ArchiveReader::open(path, sevenz_rust2::Password::empty()).unwrap();
        let names: Vec<String> = reader
            .archive()
            .files
            .iter()
            .map(|entry| entry.name().to_string())
            .collect();
        let data = reader.read_file(&names[0]).unwrap();
        (names, data)
    }

    #[test]
    fn seven_zip_lzma_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("1468829700250_stats.db");
        let dest = dir.path().join("1468829700250_stats.db.zip");
        std::fs::write(&src, sample_bytes()).unwrap();

        write_7z(&src, &dest, "1468829700250_stats.db").unwrap();

        let head = std::fs::read(&dest).unwrap();
        assert_eq!(&head[..6], b"7z\xBC\xAF\x27\x1C");
        let (names, data) = read_7z(&dest);
        assert_eq!(names, vec!["1468829700250_stats.db"]);
        assert_eq!(data, sample_bytes());
        assert!(head.len() < data.len() / 10, "7z size {}", head.len());
    }

    #[test]
    fn seven_zip_records_method_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.db");
        std::fs::write(&src, sample_bytes()).unwrap();

        for (method, name) in [
            (SevenZipMethod::Lzma, "LZMA"),
            (SevenZipMethod::Lzma2, "LZMA2"),
        ] {
            let dest = dir.path().join(format!("{name}.zip"));
            write_7z_with_method(&src, &dest, "a.db", method).unwrap();

            let mut reader =
                sevenz_rust2::ArchiveReader::open(&dest, sevenz_rust2::Password::empty()).unwrap();
            let entry = reader.archive().files[0].clone();
            let expected_time = nt_time_from_unix_s(ARCHIVE_ENTRY_TIME_UNIX_S);
            assert_eq!(
                u64::from(entry.last_modified_date()),
                u64::from(expected_time)
            );
            let mut found = Vec::new();
            reader.file_compression_methods("a.db", &mut found).unwrap();
            let found_names: Vec<&str> = found.iter().map(|method| method.name()).collect();
            assert_eq!(found_names, vec![name]);
            assert_eq!(reader.read_file("a.db").unwrap(), sample_bytes());
        }
    }

    #[test]
    fn seven_zip_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("empty.db");
        let dest = dir.path().join("empty.db.zip");
        std::fs::write(&src, b"").unwrap();

        write_7z(&src, &dest, "empty.db").unwrap();

        let (names, data) = read_7z(&dest);
        assert_eq!(names, vec!["empty.db"]);
        assert!(data.is_empty());
    }

    #[test]
    fn archives_are_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.db");
        std::fs::write(&src, sample_bytes()).unwrap();

        let mut outputs = Vec::new();
        for run in 0..2 {
            let seven = dir.path().join(format!("{run}.7z"));
            let zip = dir.path().join(format!("{run}.zip"));
            let gzip = dir.path().join(format!("{run}.gz"));
            write_7z(&src, &seven, "a.db").unwrap();
            write_zip(&src, &zip, "a.db").unwrap();
            write_gzip(&src, &gzip).unwrap();
            outputs.push([
                std::fs::read(seven).unwrap(),
                std::fs::read(zip).unwrap(),
                std::fs::read(gzip).unwrap(),
            ]);
        }
        assert!(
            outputs[0][0] == outputs[1][0],
            "7z output differs between runs"
        );
        assert!(
            outputs[0][1] == outputs[1][1],
            "zip output differs between runs"
        );
        assert!(
            outputs[0][2] == outputs[1][2],
            "gzip output differs between runs"
        );
    }

    #[test]
    fn zip_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.db");
        let dest = dir.path().join("a.db.zip");
        std::fs::write(&src, sample_bytes()).unwrap();

        write_zip(&src, &dest, "1469022007125_stats.db").unwrap();

        let mut archive = zip::ZipArchive::new(File::open(&dest).unwrap()).unwrap();
        assert_eq!(archive.len(), 1);
        let mut member = archive.by_index(0).unwrap();
        assert_eq!(member.name().unwrap(), "1469022007125_stats.db");
        assert_eq!(member.compression(), zip::CompressionMethod::Deflated);
        let modified = member.last_modified().unwrap();
        assert_eq!(
            (modified.year(), modified.month(), modified.day()),
            (2020, 1, 1)
        );
        let mut data = Vec::new();
        member.read_to_end(&mut data).unwrap();
        assert_eq!(data, sample_bytes());
    }

    #[test]
    fn zip_entries_keep_order() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first");
        let second = dir.path().join("second");
        std::fs::write(&first, b"first member").unwrap();
        std::fs::write(&second, sample_bytes()).unwrap();
        let dest = dir.path().join("two.zip");

        write_zip_entries(&dest, &[("b_stats.db", &first), ("a/nested.txt", &second)]).unwrap();

        let mut archive = zip::ZipArchive::new(File::open(&dest).unwrap()).unwrap();
        assert_eq!(archive.len(), 2);
        let mut data = Vec::new();
        let mut member = archive.by_index(0).unwrap();
        assert_eq!(member.name().unwrap(), "b_stats.db");
        member.read_to_end(&mut data).unwrap();
        assert_eq!(data, b"first member");
        drop(member);

        data.clear();
        let mut member = archive.by_index(1).unwrap();
        assert_eq!(member.name().unwrap(), "a/nested.txt");
        member.read_to_end(&mut data).unwrap();
        assert_eq!(data, sample_bytes());
    }

    #[test]
    fn gzip_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("1483945530500_stats.db");
        let dest = dir.path().join("1483945530500_stats.db.gz");
        std::fs::write(&src, sample_bytes()).unwrap();

        write_gzip(&src, &dest).unwrap();

        let mut decoder = flate2::read::GzDecoder::new(File::open(&dest).unwrap());
        let mut data = Vec::new();
        decoder.read_to_end(&mut data).unwrap();
        assert_eq!(data, sample_bytes());
        let header = decoder.header().unwrap();
        assert_eq!(header.filename(), Some(&b"1483945530500_stats.db"[..]));
        assert_eq!(i64::from(header.mtime()), ARCHIVE_ENTRY_TIME_UNIX_S);
    }

    #[test]
    fn missing_source_names_path() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("missing.db");
        let dest = dir.path().join("out.zip");

        let error = write_7z(&src, &dest, "missing.db").unwrap_err();
        assert!(error.to_string().contains("missing.db"), "{error}");
        let error = write_zip(&src, &dest, "missing.db").unwrap_err();
        assert!(error.to_string().contains("missing.db"), "{error}");
        let error = write_gzip(&src, &dest).unwrap_err();
        assert!(error.to_string().contains("missing.db"), "{error}");
    }
}
