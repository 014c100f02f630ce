//! Reading listing files in batches, in bounded memory, for `import` and `migrate-json`.
//!
//! A blocking thread parses a file and hands batches of [`BATCH_ITEMS`] listings over a
//! channel of one slot to the importer, so memory holds a few batches whatever the file's
//! size. NDJSON is read line by line; a JSON array is parsed element by element by a serde
//! visitor (never the whole file as text, never the whole array as one value). The rest of a
//! `.json` file is read as [`JsonReading`] says, which is where the two commands differ.
//!
//! `import` also takes `-` (standard input, spooled to an unnamed temporary file before the
//! import begins) and files of other extensions: such a file is JSON if the whole of it is one
//! JSON value, NDJSON otherwise, as a first pass over it tells.
//!
//! Items are numbered from 0 in each file; [`crate::cli::feed::ItemLabels`] names them the
//! way errors show them: `file.ndjson:701` (its line) or `file.json item 700` (its index).

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::Error;

/// Listings per batch: enough for set-based writes, few enough that a batch is a few MB.
pub const BATCH_ITEMS: usize = 2_000;

/// Bytes the reader asks the disk for at once.
const READ_BUFFER: usize = 256 * 1024;

/// The UTF-8 byte order mark some tools write at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a file holds its listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
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
pub enum JsonReading {
    /// `import`: the file is one JSON document, an array of listings or one listing, and a
    /// syntax error anywhere names the file (`a.json: is not valid JSON: …`).
    Document,
    /// `migrate-json`: an array of listings, or a stream of top-level values; a syntax error
    /// names the item it is in (`a.json item 7: is not valid JSON: …`).
    Items,
}

/// A run of listings from a file.
#[derive(Debug, Default)]
pub struct Batch {
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
pub struct LineMark {
    /// The item's index in its file.
    pub index: usize,
    /// Its line.
    pub line: usize,
}

/// A file named on `import`'s command line, checked before the import begins; standard
/// input is read to its end then, so the import never holds its transaction open waiting
/// for input.
pub struct NamedFile {
    path: PathBuf,
    spooled: Option<File>,
}

impl NamedFile {
    /// Checks that `path` can be opened (`-`: reads standard input into a temporary file).
    pub fn check(path: &Path) -> Result<Self, Error> {
        let name = path.display().to_string();
        let spooled = if path.as_os_str() == "-" {
            Some(spool_stdin().map_err(|e| unreadable(&name, e))?)
        } else {
            File::open(path).map_err(|e| unreadable(&name, e))?;
            None
        };
        Ok(Self {
            path: path.to_owned(),
            spooled,
        })
    }

    /// Opens the file; when its extension does not say its format, a first pass tells it.
    pub fn open(self) -> Result<ListingFile, Error> {
        let name = self.path.display().to_string();
        let (file, format) = match self.spooled {
            Some(spooled) => (spooled, None),
            None => {
                let file = File::open(&self.path).map_err(|e| unreadable(&name, e))?;
                (file, Format::of(&self.path))
            }
        };
        let format = match format {
            Some(format) => format,
            None => sniff(&file).map_err(|e| unreadable(&name, e))?,
        };
        ListingFile::from_file(file, name, format)
    }
}

fn spool_stdin() -> io::Result<File> {
    let mut spool = tempfile::tempfile()?;
    io::copy(&mut io::stdin().lock(), &mut spool)?;
    Ok(spool)
}

/// JSON if the whole of `file` is one JSON value (after a byte order mark), NDJSON
/// otherwise. Leaves the file at its start.
fn sniff(mut file: &File) -> io::Result<Format> {
    file.rewind()?;
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    if reader.fill_buf()?.starts_with(BOM) {
        reader.consume(BOM.len());
    }
    let mut de = serde_json::Deserializer::from_reader(&mut reader);
    let parsed = IgnoredAny::deserialize(&mut de).and_then(|_| de.end());
    file.rewind()?;
    match parsed {
        Ok(()) => Ok(Format::Json),
        Err(e) if e.is_io() => Err(e.into()),
        Err(_) => Ok(Format::Ndjson),
    }
}

fn unreadable(name: &str, error: io::Error) -> Error {
    Error::invalid(name, format!("cannot be read: {error}"))
}

/// A listing file opened for reading, its first bytes read, so a file that cannot be read
/// fails here rather than on the reader's thread.
pub struct ListingFile {
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
        let bytes_read = Arc::new(AtomicU64::new(0));
        let counted = CountingReader {
            inner: file,
            bytes_read: Arc::clone(&bytes_read),
        };
        let mut reader = BufReader::with_capacity(READ_BUFFER, counted);
        reader.fill_buf().map_err(|e| unreadable(&name, e))?;
        Ok(Self {
            name,
            format,
            reader,
            bytes_read,
        })
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
pub struct FileStream {
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
    inner: File,
    bytes_read: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Gathers items into batches and sends them; knows when the importer stopped listening.
struct BatchSender {
    sender: mpsc::Sender<Result<Batch, Error>>,
    batch_items: usize,
    format: Format,
    bytes_read: Arc<AtomicU64>,
    batch: Batch,
    next_index: usize,
    /// `line - index` of the last item, to see where the line numbering shifts.
    last_shift: Option<usize>,
    closed: bool,
}

impl BatchSender {
    fn new(
        sender: mpsc::Sender<Result<Batch, Error>>,
        batch_items: usize,
        format: Format,
        bytes_read: Arc<AtomicU64>,
    ) -> Self {
        Self {
            sender,
            batch_items,
            format,
            bytes_read,
            batch: Batch::default(),
            next_index: 0,
            last_shift: None,
            closed: false,
        }
    }

    /// Adds the next item (on `line`, for NDJSON); false once the importer stopped listening.
    fn push(&mut self, item: Value, line: usize) -> bool {
        let index = self.next_index;
        self.next_index += 1;
        if self.format == Format::Ndjson {
            let shift = line - index;
            if self.last_shift != Some(shift) {
                self.last_shift = Some(shift);
                self.batch.line_marks.push(LineMark { index, line });
            }
        }
        if self.batch.items.capacity() == 0 {
            self.batch.items.reserve_exact(self.batch_items);
        }
        self.batch.items.push(item);
        if self.batch.items.len() >= self.batch_items {
            let full = std::mem::take(&mut self.batch);
            return self.send(Ok(full));
        }
        true
    }

    fn send(&mut self, mut message: Result<Batch, Error>) -> bool {
        if let Ok(batch) = &mut message {
            batch.bytes_read = self.bytes_read.load(Ordering::Relaxed);
        }
        if !self.closed && self.sender.blocking_send(message).is_err() {
            self.closed = true;
        }
        !self.closed
    }

    /// Sends what is left.
    fn finish(mut self) {
        if !self.batch.items.is_empty() {
            let last = std::mem::take(&mut self.batch);
            self.send(Ok(last));
        }
    }

    /// Sends what is left, then the error that ended the file.
    fn fail(mut self, error: Error) {
        if !self.batch.items.is_empty() {
            let last = std::mem::take(&mut self.batch);
            if !self.send(Ok(last)) {
                return;
            }
        }
        self.send(Err(error));
    }
}

fn read_ndjson(mut reader: impl BufRead, name: &str, mut sender: BatchSender) {
    let mut buffer = Vec::new();
    let mut line = 0;
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => line += 1,
            Err(e) => {
                let label = format!("{name}:{}", line + 1);
                return sender.fail(Error::invalid(label, format!("cannot be read: {e}")));
            }
        }
        let text = match buffer.strip_prefix(BOM) {
            Some(rest) if line == 1 => rest,
            _ => &buffer[..],
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(text) {
            Ok(item) => {
                if !sender.push(item, line) {
                    return;
                }
            }
            Err(e) => {
                let label = format!("{name}:{line}");
                return sender.fail(Error::invalid(label, format!("is not valid JSON: {e}")));
            }
        }
    }
    sender.finish();
}

fn read_json(mut reader: impl BufRead, name: &str, reading: JsonReading, mut sender: BatchSender) {
    let skipped = match skip_to_first_value(&mut reader) {
        Ok(skipped) => skipped,
        Err(e) => return sender.fail(unreadable(name, e)),
    };
    if skipped.first.is_none() && reading == JsonReading::Items {
        return sender.fail(Error::invalid(name, "is not valid JSON: the file is empty"));
    }
    // serde_json counts lines and columns from where it starts reading: it reads the skipped
    // white space again (made anew, not kept), so the positions in its errors are the file's.
    let mut de = serde_json::Deserializer::from_reader(skipped.replay().chain(reader));
    let not_json = |label: String, e: serde_json::Error| {
        Error::invalid(label, format!("is not valid JSON: {e}"))
    };
    if skipped.first == Some(b'[') {
        let mut array_done = false;
        let parsed = Elements {
            sender: &mut sender,
            done: &mut array_done,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end());
        match parsed {
            Ok(()) => sender.finish(),
            Err(_) if sender.closed => {}
            Err(e) => {
                let label = if array_done || reading == JsonReading::Document {
                    name.to_owned()
                } else {
                    format!("{name} item {}", sender.next_index)
                };
                sender.fail(not_json(label, e))
            }
        }
    } else if reading == JsonReading::Document {
        match Value::deserialize(&mut de).and_then(|item| de.end().map(|()| item)) {
            Ok(item) => {
                if sender.push(item, 0) {
                    sender.finish();
                }
            }
            Err(e) => sender.fail(not_json(name.to_owned(), e)),
        }
    } else {
        for value in de.into_iter::<Value>() {
            match value {
                Ok(item) => {
                    if !sender.push(item, 0) {
                        return;
                    }
                }
                Err(e) => {
                    let label = format!("{name} item {}", sender.next_index);
                    return sender.fail(not_json(label, e));
                }
            }
        }
        sender.finish();
    }
}

/// What [`skip_to_first_value`] went past.
struct Skipped {
    /// The first byte of the JSON, left unread; `None` when there is none.
    first: Option<u8>,
    /// Line ends skipped.
    newlines: u64,
    /// Bytes skipped after the last of them (a byte order mark aside).
    column: u64,
}

impl Skipped {
    /// White space that puts a reader where the skipped part left off.
    fn replay(&self) -> impl Read + use<> {
        io::repeat(b'\n')
            .take(self.newlines)
            .chain(io::repeat(b' ').take(self.column))
    }
}

/// Skips a byte order mark and white space, up to the first byte of the JSON.
fn skip_to_first_value(reader: &mut impl BufRead) -> io::Result<Skipped> {
    let mut skipped = Skipped {
        first: None,
        newlines: 0,
        column: 0,
    };
    let mut at_start = true;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(skipped);
        }
        if at_start && buffer.starts_with(BOM) {
            reader.consume(BOM.len());
            at_start = false;
            continue;
        }
        at_start = false;
        let skip = buffer
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(buffer.len());
        for &byte in &buffer[..skip] {
            if byte == b'\n' {
                skipped.newlines += 1;
                skipped.column = 0;
            } else {
                skipped.column += 1;
            }
        }
        skipped.first = buffer.get(skip).copied();
        reader.consume(skip);
        if skipped.first.is_some() {
            return Ok(skipped);
        }
    }
}

/// Visits a top-level JSON array, handing each element to the sender as soon as it is parsed.
struct Elements<'a> {
    sender: &'a mut BatchSender,
    done: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of listings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            if !self.sender.push(item, 0) {
                return Err(A::Error::custom("the importer stopped"));
            }
        }
        *self.done = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::feed::ItemLabels;

    /// Reads `text` as `format` in batches of `batch_items`; returns the batch sizes, the
    /// labels of every item, and the error if any.
    fn read(
        text: &str,
        format: Format,
        reading: JsonReading,
        batch_items: usize,
    ) -> (Vec<usize>, Vec<String>, Option<String>) {
        let (tx, mut rx) = mpsc::channel(1024);
        let sender = BatchSender::new(tx, batch_items, format, Arc::default());
        let reader = BufReader::with_capacity(7, text.as_bytes());
        match format {
            Format::Ndjson => read_ndjson(reader, "f", sender),
            Format::Json => read_json(reader, "f", reading, sender),
        }
        let mut labels = ItemLabels::default();
        labels.start_file("f".into(), format, 0);
        let (mut sizes, mut error, mut count) = (Vec::new(), None, 0);
        while let Ok(message) = rx.try_recv() {
            match message {
                Ok(mut batch) => {
                    labels.extend(&mut batch);
                    sizes.push(batch.items.len());
                    count += batch.items.len();
                }
                Err(e) => error = Some(e.to_string()),
            }
        }
        let names = (0..count).map(|i| labels.label(i)).collect();
        (sizes, names, error)
    }

    fn items(
        text: &str,
        format: Format,
        batch_items: usize,
    ) -> (Vec<usize>, Vec<String>, Option<String>) {
        read(text, format, JsonReading::Items, batch_items)
    }

    fn document(text: &str) -> (Vec<usize>, Option<String>) {
        let (sizes, _, error) = read(text, Format::Json, JsonReading::Document, 10);
        (sizes, error)
    }

    #[test]
    fn ndjson_lines_are_named_across_batches_and_blank_lines() {
        let text = "\u{feff}{\"id\":1}\n\n{\"id\":2}\r\n{\"id\":3}\n\n\n{\"id\":4}\n{\"id\":5}";
        let (sizes, labels, error) = items(text, Format::Ndjson, 2);
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(labels, ["f:1", "f:3", "f:4", "f:7", "f:8"]);
        assert_eq!(error, None);

        let (sizes, _, error) = items(
            "{\"id\":1}\n{\"id\":2}\n{oops\n{\"id\":4}\n",
            Format::Ndjson,
            10,
        );
        assert_eq!(sizes, [2]);
        assert!(error.unwrap().starts_with("invalid f:3: is not valid JSON"));
    }

    #[test]
    fn a_json_array_is_streamed_element_by_element() {
        let text = " \n[{\"id\":1},{\"id\":2},\n{\"id\":3},{\"id\":4},{\"id\":5}]\n";
        let (sizes, labels, error) = items(text, Format::Json, 2);
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(
            labels,
            ["f item 0", "f item 1", "f item 2", "f item 3", "f item 4"]
        );
        assert_eq!(error, None);

        let (sizes, _, error) = items("[{\"id\":1},{\"id\":2},{\"id\"", Format::Json, 10);
        assert_eq!(sizes, [2]);
        assert!(
            error
                .unwrap()
                .starts_with("invalid f item 2: is not valid JSON")
        );
        let (_, _, error) = items("[{\"id\":1}] x", Format::Json, 10);
        assert!(
            error
                .unwrap()
                .starts_with("invalid f: is not valid JSON: trailing")
        );
    }

    #[test]
    fn other_json_files_are_a_stream_of_values() {
        let (sizes, labels, error) = items("{\"id\":1}", Format::Json, 10);
        assert_eq!(
            (sizes, labels, error),
            (vec![1], vec!["f item 0".to_owned()], None)
        );
        let (sizes, _, error) = items("{\"id\":1} {\"id\":2}\n", Format::Json, 10);
        assert_eq!((sizes, error), (vec![2], None));
        let (_, _, error) = items("  \n", Format::Json, 10);
        assert_eq!(
            error.as_deref(),
            Some("invalid f: is not valid JSON: the file is empty")
        );
    }

    /// `import` reads a `.json` file as one document, and its errors are serde_json's on the
    /// whole text, positions included (`serde_json::from_str` is the reference).
    #[test]
    fn a_json_document_is_one_value_and_its_errors_name_the_file() {
        assert_eq!(document("\n [{\"id\":1}, {\"id\":2}]\n"), (vec![2], None));
        assert_eq!(document("{\"id\":1}"), (vec![1], None));
        for text in [
            "\n\n  [{\"id\":1},\n {\"id\"",
            "[{\"id\": 1},",
            "{\"id\":1} {\"id\":2}",
            "\n {\"id\":1",
            "",
            " \n ",
        ] {
            let reference = serde_json::from_str::<Value>(text).unwrap_err();
            let (_, error) = document(text);
            assert_eq!(
                error.as_deref(),
                Some(format!("invalid f: is not valid JSON: {reference}").as_str()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn content_tells_the_format_of_a_file_without_an_extension() {
        let sniffed = |text: &str| {
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
            sniff(&file).unwrap()
        };
        assert_eq!(sniffed("{\n \"id\": 1\n}\n"), Format::Json);
        assert_eq!(sniffed("\u{feff}[{\"id\": 1}]"), Format::Json);
        assert_eq!(sniffed("{\"id\": 1}\n{\"id\": 2}\n"), Format::Ndjson);
        assert_eq!(sniffed(""), Format::Ndjson);
    }
}
