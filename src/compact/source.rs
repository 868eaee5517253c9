//! Source files: which objects a prefix or glob names, and their bytes as one stream of
//! JSON text, inflated when the object is gzip (detected by its magic bytes, not its
//! name), split into lines.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use globset::{GlobBuilder, GlobMatcher};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::mpsc;

use super::inflate::{TextBuffers, with_inflated};
use crate::error::{Error, Result};

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The UTF-8 byte-order mark some writers put at the start of a text file: skipped, not
/// part of the first line (its bytes still count as read).
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Size of the buffer lines are cut from; a longer line grows it.
const LINE_BUFFER: usize = 1 << 20;
/// Chunks of a download held between the fetching task and the decoder.
const CHUNKS_IN_FLIGHT: usize = 4;
/// Objects up to this size are fetched in one piece (local disk streams in 8 KiB chunks,
/// each a blocking read of its own); larger ones stream.
const WHOLE_OBJECT_MAX: u64 = 16 * 1024 * 1024;

/// One source object, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceFile {
    /// Path of the object in the source store.
    pub path: String,
    /// Path relative to the source root (the literal part of the prefix or glob); what
    /// path enrichments and the `source_file` column see.
    pub relative: String,
    /// Size in bytes, as stored (compressed for gzip).
    pub size: u64,
    /// The store's entity tag, where it has one.
    pub e_tag: Option<String>,
    /// When the store last modified it.
    pub last_modified: DateTime<Utc>,
}

/// What to read: every object under `root` whose relative path matches `glob` (all of
/// them without a glob).
#[derive(Debug, Clone)]
pub(crate) struct SourceSpec {
    root: String,
    glob: Option<GlobMatcher>,
}

impl SourceSpec {
    /// Splits `pattern` at its first segment with a glob character (`*?[{`): what comes
    /// before is the root that is listed, the rest is matched against each relative path
    /// (`*` stays within a segment, `**` crosses them).
    pub(crate) fn parse(pattern: &str) -> Result<SourceSpec> {
        let trimmed = pattern.trim_matches('/');
        let segments: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
        let first_glob = segments
            .iter()
            .position(|s| s.contains(['*', '?', '[', '{']));
        let Some(at) = first_glob else {
            return Ok(SourceSpec {
                root: segments.join("/"),
                glob: None,
            });
        };
        let rest = segments[at..].join("/");
        let glob = GlobBuilder::new(&rest)
            .literal_separator(true)
            .build()
            .map_err(|e| Error::Config {
                message: format!("source pattern {pattern:?} is not a valid glob"),
                source: Some(Box::new(e)),
            })?
            .compile_matcher();
        Ok(SourceSpec {
            root: segments[..at].join("/"),
            glob: Some(glob),
        })
    }

    /// The listed root, relative to the store.
    #[cfg(test)]
    pub(crate) fn root(&self) -> &str {
        &self.root
    }

    /// Lists the matching objects, sorted by path. Hidden objects (a segment of the
    /// relative path starting with `_` or `.`) are skipped, as readers skip them.
    pub(crate) async fn list(&self, store: &Arc<dyn ObjectStore>) -> Result<Vec<SourceFile>> {
        let prefix = (!self.root.is_empty()).then(|| Path::from(self.root.as_str()));
        let listed: Vec<_> = store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(|source| Error::Store {
                backend: store.to_string(),
                operation: "list",
                path: self.root.clone(),
                source: Box::new(source),
            })?;
        let mut files: Vec<SourceFile> = listed
            .into_iter()
            .filter_map(|meta| {
                let path = meta.location.to_string();
                let relative = if self.root.is_empty() {
                    path.clone()
                } else {
                    path.strip_prefix(&self.root)?
                        .trim_start_matches('/')
                        .to_string()
                };
                if relative.split('/').any(|s| s.starts_with(['_', '.'])) {
                    return None;
                }
                if let Some(glob) = &self.glob
                    && !glob.is_match(&relative)
                {
                    return None;
                }
                Some(SourceFile {
                    path,
                    relative,
                    size: meta.size,
                    e_tag: meta.e_tag,
                    last_modified: meta.last_modified,
                })
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

/// Starts downloading `file` on the runtime and returns a blocking reader of its bytes:
/// the download runs ahead of the reader by a few chunks.
pub(crate) fn open(
    store: &Arc<dyn ObjectStore>,
    file: &SourceFile,
    buffers: &Arc<TextBuffers>,
) -> ChannelReader {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let store = Arc::clone(store);
    let path = Path::from(file.path.as_str());
    let whole = file.size <= WHOLE_OBJECT_MAX;
    tokio::spawn(async move {
        if whole {
            let bytes = match store.get(&path).await {
                Ok(result) => result.bytes().await.map_err(io::Error::other),
                Err(e) => Err(io::Error::other(e)),
            };
            let _ = tx.send(bytes).await;
            return;
        }
        let body = match store.get(&path).await {
            Ok(result) => result.into_stream(),
            Err(e) => {
                let _ = tx.send(Err(io::Error::other(e))).await;
                return;
            }
        };
        let mut body = body.map_err(io::Error::other);
        while let Some(chunk) = body.next().await {
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    ChannelReader {
        rx,
        current: Bytes::new(),
        whole,
        buffers: Arc::clone(buffers),
    }
}

/// A blocking [`Read`] over chunks sent by an async task.
#[derive(Debug)]
pub(crate) struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    /// The object comes as one chunk.
    whole: bool,
    /// Where its text is inflated when it is inflated whole.
    buffers: Arc<TextBuffers>,
}

/// Calls `each` with every line of the object `raw` reads, as [`for_each_line`] does
/// (gzip inflated). An object fetched whole is inflated in one call and its lines cut
/// in place where it can be ([`super::inflate`]); otherwise, or when that fails, it
/// streams, which also finds where the data goes bad.
pub(crate) fn read_lines(
    mut raw: ChannelReader,
    mut each: impl FnMut(u64, &[u8]) -> bool,
) -> std::result::Result<u64, ReadFailure> {
    if raw.whole {
        match raw.rx.blocking_recv() {
            Some(Ok(object)) => {
                if object.starts_with(&GZIP_MAGIC) {
                    if let Some(read) =
                        with_inflated(&object, &raw.buffers, |text| lines_in(text, &mut each))
                    {
                        return Ok(read);
                    }
                } else {
                    return Ok(lines_in(&object, &mut each));
                }
                raw.current = object;
            }
            Some(Err(error)) => {
                return Err(ReadFailure {
                    line: 1,
                    bytes: 0,
                    error,
                });
            }
            None => return Ok(0),
        }
    }
    let mut text = json_text(raw).map_err(|error| ReadFailure {
        line: 1,
        bytes: 0,
        error,
    })?;
    for_each_line(&mut text, each)
}

/// Where reading an object stopped: the line being read (1-based), the text bytes read
/// before it, and why.
#[derive(Debug)]
pub(crate) struct ReadFailure {
    pub(crate) line: u64,
    pub(crate) bytes: u64,
    pub(crate) error: io::Error,
}

/// [`for_each_line`] over text in memory.
fn lines_in(all: &[u8], each: &mut impl FnMut(u64, &[u8]) -> bool) -> u64 {
    let text = all.strip_prefix(BOM).unwrap_or(all);
    let mut line = 0;
    if let Some(rest) = complete_lines(text, 0, &mut line, each)
        && rest < text.len()
    {
        each(line + 1, trim_cr(&text[rest..]));
    }
    all.len() as u64
}

/// Hands `each` every line of `text` that a `\n` ends, numbered on from `*line`; newlines
/// are searched from `search` on (the bytes before it hold none). Returns where the
/// unfinished rest begins, or `None` once `each` asks to stop.
fn complete_lines(
    text: &[u8],
    search: usize,
    line: &mut u64,
    each: &mut impl FnMut(u64, &[u8]) -> bool,
) -> Option<usize> {
    let mut start = 0;
    for stop in memchr::memchr_iter(b'\n', &text[search..]) {
        let stop = search + stop;
        *line += 1;
        if !each(*line, trim_cr(&text[start..stop])) {
            return None;
        }
        start = stop + 1;
    }
    Some(start)
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// The JSON text of an object: inflated when it starts with the gzip magic bytes
/// (several concatenated members are one stream), as is otherwise.
pub(crate) fn json_text<'a>(
    mut raw: impl Read + Send + 'a,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < head.len() {
        match raw.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let chained = io::Cursor::new(head[..got].to_vec()).chain(raw);
    if got == 2 && head == GZIP_MAGIC {
        let buffered = io::BufReader::with_capacity(256 * 1024, chained);
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(chained))
    }
}

/// Calls `each` with every line of `text` (1-based number, bytes without the `\n` or
/// `\r\n`), the last one also when it has no newline, until `each` returns `false`.
/// Returns the bytes read; an IO error (a corrupt gzip stream, a failed download) stops
/// it and is returned with the number of the line that was being read and the bytes
/// read before it.
pub(crate) fn for_each_line(
    text: &mut dyn Read,
    mut each: impl FnMut(u64, &[u8]) -> bool,
) -> std::result::Result<u64, ReadFailure> {
    let mut buf = vec![0u8; LINE_BUFFER];
    let mut filled = 0usize;
    let mut line = 0u64;
    let mut total = 0u64;
    // Whether the start of the text was looked at for a byte-order mark.
    let mut started = false;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match text.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(ReadFailure {
                    line: line + 1,
                    bytes: total,
                    error,
                });
            }
        };
        total += n as u64;
        let mut end = filled + n;
        if !started && (end >= BOM.len() || n == 0) {
            started = true;
            if buf[..end].starts_with(BOM) {
                buf.copy_within(BOM.len()..end, 0);
                end -= BOM.len();
                filled = filled.saturating_sub(BOM.len());
            }
        }
        if n == 0 {
            let filled = end;
            if filled > 0 {
                line += 1;
                each(line, trim_cr(&buf[..filled]));
            }
            return Ok(total);
        }
        // Newlines can only be in the new bytes.
        let Some(start) = complete_lines(&buf[..end], filled, &mut line, &mut each) else {
            return Ok(total);
        };
        buf.copy_within(start..end, 0);
        filled = end - start;
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(text: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        let mut reader = json_text(text).unwrap();
        for_each_line(&mut reader, |n, l| {
            out.push((n, l.to_vec()));
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn splits_lines_with_and_without_final_newline() {
        assert_eq!(
            lines(b"a\r\nb\n\nc"),
            vec![
                (1, b"a".to_vec()),
                (2, b"b".to_vec()),
                (3, b"".to_vec()),
                (4, b"c".to_vec())
            ]
        );
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn gzip_is_detected_by_magic_bytes() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"a\":1}\n").unwrap();
        let mut bytes = gz.finish().unwrap();
        // A second member is part of the same text.
        let mut second = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        second.write_all(b"{\"a\":2}\n").unwrap();
        bytes.extend(second.finish().unwrap());
        assert_eq!(lines(&bytes).len(), 2);
    }

    /// Lines and outcome of `read_lines` over `object`, fetched whole or streamed.
    async fn read_back(object: Vec<u8>, whole: bool) -> (Vec<(u64, Vec<u8>)>, Result<u64, u64>) {
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let path = Path::from("f.gz");
        store.put(&path, object.into()).await.unwrap();
        let mut file = SourceFile {
            path: "f.gz".into(),
            relative: "f.gz".into(),
            size: store.head(&path).await.unwrap().size,
            e_tag: None,
            last_modified: chrono::Utc::now(),
        };
        if !whole {
            file.size = WHOLE_OBJECT_MAX + 1;
        }
        let reader = open(&store, &file, &Arc::default());
        tokio::task::spawn_blocking(move || {
            let mut got = Vec::new();
            let read = read_lines(reader, |n, l| {
                got.push((n, l.to_vec()));
                true
            });
            (got, read.map_err(|failure| failure.line))
        })
        .await
        .unwrap()
    }

    /// Inflating a whole object in one call and streaming it give the same lines, and
    /// the same error line for a corrupt stream.
    #[tokio::test]
    async fn whole_and_streamed_objects_read_alike() {
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| format!("{{\"a\":{i}}}\r\n").into_bytes())
            .chain(b"last".iter().copied())
            .collect();
        let one = {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&text).unwrap();
            gz.finish().unwrap()
        };
        let two = [one.clone(), one.clone()].concat();
        let mut corrupt = one.clone();
        let at = corrupt.len() * 3 / 4;
        corrupt[at] ^= 0x55;
        for object in [one, two, corrupt, text.clone(), Vec::new()] {
            let whole = read_back(object.clone(), true).await;
            let streamed = read_back(object, false).await;
            assert_eq!(whole, streamed);
        }
        let (lines, read) = read_back(text.clone(), true).await;
        assert_eq!((lines.len(), read), (5001, Ok(text.len() as u64)));
        assert_eq!(lines[0].1, b"{\"a\":0}");
    }

    #[test]
    fn long_lines_grow_the_buffer() {
        let long = vec![b'x'; LINE_BUFFER * 3 + 7];
        let mut text = long.clone();
        text.push(b'\n');
        text.extend_from_slice(b"y");
        let got = lines(&text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.len(), long.len());
    }

    #[test]
    fn globs_split_into_root_and_pattern() {
        let spec = SourceSpec::parse("fleet/*/*/*/*.txt.gz").unwrap();
        assert_eq!(spec.root(), "fleet");
        let glob = spec.glob.unwrap();
        assert!(glob.is_match("BRCB/dev/2024110413/2024110413.txt.gz"));
        assert!(!glob.is_match("BRCB/dev/2024110413.txt.gz"));
        let spec = SourceSpec::parse("/a/b/").unwrap();
        assert_eq!((spec.root(), spec.glob.is_none()), ("a/b", true));
        assert!(SourceSpec::parse("a/[").is_err());
    }
}
