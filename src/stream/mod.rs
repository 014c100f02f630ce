//! Reading listing files in batches, in bounded memory, for the CLI's `import` and
//! `migrate-json` and for the HTTP door's streamed upload (`POST /sources/{id}/import`), whose
//! request body is read as a file without a name: its items are named `line 7` / `item 6`.
//!
//! A blocking thread parses a file and hands batches of [`BATCH_ITEMS`] listings over a
//! channel of one slot to the importer, so memory holds a few batches whatever the file's
//! size. NDJSON is read line by line; a JSON array is parsed element by element by a serde
//! visitor (never the whole file as text, never the whole array as one value). The rest of a
//! `.json` file is read as [`JsonReading`] says, which is where the two commands differ.
//!
//! `import` also takes `-` (standard input, spooled to an unnamed temporary file before the
//! import begins) and files of other extensions: such a file is JSON if the whole of it is one
//! JSON value, NDJSON otherwise, as a first pass over it tells ([`NamedFile`]).
//! The parsing itself, on the reader's thread, is in `parse`.
//!
//! Items are numbered from 0 in each file; [`feed::ItemLabels`] names them the
//! way errors show them: `file.ndjson:701` (its line) or `file.json item 700` (its index).

pub(crate) mod feed;
mod named;
mod parse;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::Error;
pub(crate) use named::NamedFile;
use parse::{BatchSender, read_json, read_ndjson};

/// Listings per batch: enough for set-based writes, few enough that a batch is a few MB.
pub(crate) const BATCH_ITEMS: usize = 2_000;

/// Bytes the reader asks the disk for at once.
const READ_BUFFER: usize = 256 * 1024;

/// The UTF-8 byte order mark some tools write at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a file holds its listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `.json`: an array of listings, or one listing (or several top-level values).
    Json,
    /// `.ndjson` / `.jsonl`: one listing a line; blank lines are skipped.
    Ndjson,
}

impl Format {
    /// The format a file's extension says, if it is a listing file.
    pub fn of(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match extension.as_str() {
            "json" => Some(Self::Json),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            _ => None,
        }
    }

    /// `json` or `ndjson`, as reports show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ndjson => "ndjson",
        }
    }
}

/// How a JSON file that is not NDJSON is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonReading {
    /// `import`: the file is one JSON document, an array of listings or one listing, and a
    /// syntax error anywhere names the file (`a.json: is not valid JSON: …`).
    Document,
    /// `migrate-json`: an array of listings, or a stream of top-level values; a syntax error
    /// names the item it is in (`a.json item 7: is not valid JSON: …`).
    Items,
}

/// A run of listings from a file.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The listings, in file order.
    pub items: Vec<Value>,
    /// How far into the file the reader was when it sealed the batch, in bytes (within a
    /// read buffer), for progress that follows what is imported rather than what is read.
    pub bytes_read: u64,
    /// Where the line numbering of the items shifts (see [`LineMark`]).
    pub line_marks: Vec<LineMark>,
}

/// From item `index` of its file on, item `i` is on line `line + (i - index)` (until the
/// next mark). Only blank lines shift the numbering, so a file has few marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineMark {
    /// The item's index in its file.
    pub index: usize,
    /// Its line.
    pub line: usize,
}

fn unreadable(name: &str, error: io::Error) -> Error {
    Error::invalid(whole_label(name), format!("cannot be read: {error}"))
}

/// What errors call the file `name` as a whole: its name, or `body` for a request body.
fn whole_label(name: &str) -> String {
    if name.is_empty() {
        "body".to_owned()
    } else {
        name.to_owned()
    }
}

/// How errors name the item on `line` of NDJSON file `name`: `name:line` (`line 7` in a
/// request body).
fn line_label(name: &str, line: usize) -> String {
    if name.is_empty() {
        format!("line {line}")
    } else {
        format!("{name}:{line}")
    }
}

/// How errors name item `index` (from 0) of JSON file `name`: `name item 6` (`item 6` in a
/// request body).
fn item_label(name: &str, index: usize) -> String {
    if name.is_empty() {
        format!("item {index}")
    } else {
        format!("{name} item {index}")
    }
}

/// A listing file opened for reading, its first bytes read, so a file that cannot be read
/// fails here rather than on the reader's thread.
pub(crate) struct ListingFile {
    name: String,
    format: Format,
    reader: BufReader<CountingReader>,
    bytes_read: Arc<AtomicU64>,
}

impl ListingFile {
    /// Opens `path`, shown as `name` in errors, as `format`.
    pub fn open(path: &Path, name: &str, format: Format) -> Result<Self, Error> {
        let file = File::open(path).map_err(|e| unreadable(name, e))?;
        Self::from_file(file, name.to_owned(), format)
    }

    fn from_file(file: File, name: String, format: Format) -> Result<Self, Error> {
        let mut opened = Self::from_reader(Box::new(file), name, format);
        opened
            .reader
            .fill_buf()
            .map_err(|e| unreadable(&opened.name, e))?;
        Ok(opened)
    }

    /// A request body as `format`, read from `body` (a blocking reader: it is read on the
    /// reader's thread only). Its items are named `line 7` (NDJSON) or `item 6` (JSON).
    pub fn from_body(body: impl Read + Send + 'static, format: Format) -> Self {
        Self::from_reader(Box::new(body), String::new(), format)
    }

    fn from_reader(inner: Box<dyn Read + Send>, name: String, format: Format) -> Self {
        let bytes_read = Arc::new(AtomicU64::new(0));
        let counted = CountingReader {
            inner,
            bytes_read: Arc::clone(&bytes_read),
        };
        Self {
            name,
            format,
            reader: BufReader::with_capacity(READ_BUFFER, counted),
            bytes_read,
        }
    }

    /// The file as errors name it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it holds its listings.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Starts reading the file on a thread of its own, in batches of `batch_items` listings.
    pub fn stream(self, reading: JsonReading, batch_items: usize) -> FileStream {
        let Self {
            name,
            format,
            reader,
            bytes_read,
        } = self;
        let (sender, batches) = mpsc::channel(1);
        let sender = BatchSender::new(sender, batch_items.max(1), format, bytes_read);
        let reader = tokio::task::spawn_blocking(move || match format {
            Format::Ndjson => read_ndjson(reader, &name, sender),
            Format::Json => read_json(reader, &name, reading, sender),
        });
        FileStream { batches, reader }
    }
}

/// A file being read by its thread.
pub(crate) struct FileStream {
    batches: mpsc::Receiver<Result<Batch, Error>>,
    reader: JoinHandle<()>,
}

impl FileStream {
    /// The next batch; `None` at the end of the file. After an error, nothing more comes.
    pub async fn next(&mut self) -> Option<Result<Batch, Error>> {
        self.batches.recv().await
    }

    /// Stops reading (if the file was not read to its end) and waits for the thread.
    pub async fn close(self) {
        drop(self.batches);
        // The thread ends at its next send; a panic in it has been reported already.
        let _ = self.reader.await;
    }
}

/// Counts the bytes read through it, for progress.
struct CountingReader {
    inner: Box<dyn Read + Send>,
    bytes_read: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
