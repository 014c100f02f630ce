//! Reading a listing file in batches, in bounded memory, for `migrate-json`.
//!
//! A blocking thread parses the file and hands batches of [`BATCH_ITEMS`] listings over a
//! channel of one slot to the importer, so memory holds a few batches whatever the file's
//! size. NDJSON is read line by line; a JSON array is parsed element by element by a serde
//! visitor (never the whole file as text, never the whole array as one value); any other JSON
//! file is read as a stream of top-level values, so one object is a batch of one.
//!
//! Items are numbered from 0 across the whole file, as the domain's import session numbers
//! them, and [`ItemLabels`] names item `i` the way `import` does: `file.ndjson:701` (its
//! line) or `file.json item 700` (its index).

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{DeserializeSeed, Deserializer, Error as _, SeqAccess, Visitor};
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

/// A run of listings from a file.
#[derive(Debug, Default)]
pub struct Batch {
    /// The listings, in file order.
    pub items: Vec<Value>,
    /// How far into the file the reader was when it sealed the batch, in bytes (within a
    /// read buffer), for progress that follows what is imported rather than what is read.
    pub bytes_read: u64,
    /// Where the line numbering of the items shifts (see [`ItemLabels`]).
    line_marks: Vec<LineMark>,
}

/// From item `index` on, item `i` is on line `line + (i - index)` (until the next mark).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LineMark {
    index: usize,
    line: usize,
}

/// Names the items of one file in errors, from the line marks of the batches read so far.
/// Only blank lines shift the numbering, so it stays small however long the file is.
#[derive(Debug)]
pub struct ItemLabels {
    name: String,
    format: Format,
    marks: Vec<LineMark>,
}

impl ItemLabels {
    /// Labels for the file shown as `name`.
    pub fn new(name: String, format: Format) -> Self {
        Self {
            name,
            format,
            marks: Vec::new(),
        }
    }

    /// Takes in the line marks of the next batch (before it is imported).
    pub fn extend(&mut self, batch: &mut Batch) {
        self.marks.append(&mut batch.line_marks);
    }

    /// `file:line` (NDJSON) or `file item i` (JSON).
    pub fn label(&self, index: usize) -> String {
        match self.format {
            Format::Json => format!("{} item {index}", self.name),
            Format::Ndjson => {
                let before = self.marks.partition_point(|mark| mark.index <= index);
                match before.checked_sub(1).and_then(|k| self.marks.get(k)) {
                    Some(mark) => format!("{}:{}", self.name, mark.line + (index - mark.index)),
                    None => format!("{} item {index}", self.name),
                }
            }
        }
    }
}

/// A file being read by its thread.
pub struct FileStream {
    batches: mpsc::Receiver<Result<Batch, Error>>,
    reader: JoinHandle<()>,
}

impl FileStream {
    /// Opens `path` (shown as `name` in errors) and starts reading it in batches of
    /// `batch_items` listings.
    pub fn open(
        path: &Path,
        name: &str,
        format: Format,
        batch_items: usize,
    ) -> Result<Self, Error> {
        let file =
            File::open(path).map_err(|e| Error::invalid(name, format!("cannot be read: {e}")))?;
        let bytes_read = Arc::new(AtomicU64::new(0));
        let counted = CountingReader {
            inner: file,
            bytes_read: Arc::clone(&bytes_read),
        };
        let reader = BufReader::with_capacity(READ_BUFFER, counted);
        let (sender, batches) = mpsc::channel(1);
        let sender = BatchSender::new(sender, batch_items.max(1), format, bytes_read);
        let name = name.to_owned();
        let reader = tokio::task::spawn_blocking(move || match format {
            Format::Ndjson => read_ndjson(reader, &name, sender),
            Format::Json => read_json(reader, &name, sender),
        });
        Ok(Self { batches, reader })
    }

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

fn read_json(mut reader: impl BufRead, name: &str, mut sender: BatchSender) {
    let first = match skip_to_first_value(&mut reader) {
        Ok(Some(byte)) => byte,
        Ok(None) => {
            return sender.fail(Error::invalid(name, "is not valid JSON: the file is empty"));
        }
        Err(e) => return sender.fail(Error::invalid(name, format!("cannot be read: {e}"))),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    if first == b'[' {
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
                let label = if array_done {
                    name.to_owned()
                } else {
                    format!("{name} item {}", sender.next_index)
                };
                sender.fail(Error::invalid(label, format!("is not valid JSON: {e}")));
            }
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
                    return sender.fail(Error::invalid(label, format!("is not valid JSON: {e}")));
                }
            }
        }
        sender.finish();
    }
}

/// Skips a byte order mark and white space; returns the first byte of the JSON, left unread.
fn skip_to_first_value(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    let mut at_start = true;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        if at_start && buffer.starts_with(BOM) {
            reader.consume(BOM.len());
            at_start = false;
            continue;
        }
        at_start = false;
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(skip) => {
                let byte = buffer[skip];
                reader.consume(skip);
                return Ok(Some(byte));
            }
            None => {
                let all = buffer.len();
                reader.consume(all);
            }
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

    /// Reads `text` as `format` in batches of `batch_items`; returns the batch sizes, the
    /// labels of every item, and the error if any.
    fn read(
        text: &str,
        format: Format,
        batch_items: usize,
    ) -> (Vec<usize>, Vec<String>, Option<String>) {
        let (tx, mut rx) = mpsc::channel(1024);
        let sender = BatchSender::new(tx, batch_items, format, Arc::default());
        let reader = BufReader::with_capacity(7, text.as_bytes());
        match format {
            Format::Ndjson => read_ndjson(reader, "f", sender),
            Format::Json => read_json(reader, "f", sender),
        }
        let mut labels = ItemLabels::new("f".into(), format);
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

    #[test]
    fn ndjson_lines_are_named_across_batches_and_blank_lines() {
        let text = "\u{feff}{\"id\":1}\n\n{\"id\":2}\r\n{\"id\":3}\n\n\n{\"id\":4}\n{\"id\":5}";
        let (sizes, labels, error) = read(text, Format::Ndjson, 2);
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(labels, ["f:1", "f:3", "f:4", "f:7", "f:8"]);
        assert_eq!(error, None);

        let (sizes, _, error) = read(
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
        let (sizes, labels, error) = read(text, Format::Json, 2);
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(
            labels,
            ["f item 0", "f item 1", "f item 2", "f item 3", "f item 4"]
        );
        assert_eq!(error, None);

        let (sizes, _, error) = read("[{\"id\":1},{\"id\":2},{\"id\"", Format::Json, 10);
        assert_eq!(sizes, [2]);
        assert!(
            error
                .unwrap()
                .starts_with("invalid f item 2: is not valid JSON")
        );
        let (_, _, error) = read("[{\"id\":1}] x", Format::Json, 10);
        assert!(
            error
                .unwrap()
                .starts_with("invalid f: is not valid JSON: trailing")
        );
    }

    #[test]
    fn other_json_files_are_a_stream_of_values() {
        let (sizes, labels, error) = read("{\"id\":1}", Format::Json, 10);
        assert_eq!(
            (sizes, labels, error),
            (vec![1], vec!["f item 0".to_owned()], None)
        );
        let (sizes, _, error) = read("{\"id\":1} {\"id\":2}\n", Format::Json, 10);
        assert_eq!((sizes, error), (vec![2], None));
        let (_, _, error) = read("  \n", Format::Json, 10);
        assert_eq!(
            error.as_deref(),
            Some("invalid f: is not valid JSON: the file is empty")
        );
    }
}
