//! The reader thread's side: parsing NDJSON line by line and a JSON array element by
//! element, and handing the listings over in batches.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Deserializer, Error as _, SeqAccess, Visitor};
use serde_json::Value;
use tokio::sync::mpsc;

use super::{
    BOM, Batch, Format, JsonReading, LineMark, item_label, line_label, unreadable, whole_label,
};
use crate::error::Error;

/// Gathers items into batches and sends them; knows when the importer stopped listening.
pub(super) struct BatchSender {
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
    pub(super) fn new(
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

pub(super) fn read_ndjson(mut reader: impl BufRead, name: &str, mut sender: BatchSender) {
    let mut buffer = Vec::new();
    let mut line = 0;
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => line += 1,
            Err(e) => {
                let label = line_label(name, line + 1);
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
                let label = line_label(name, line);
                return sender.fail(Error::invalid(label, format!("is not valid JSON: {e}")));
            }
        }
    }
    sender.finish();
}

pub(super) fn read_json(
    mut reader: impl BufRead,
    name: &str,
    reading: JsonReading,
    mut sender: BatchSender,
) {
    let skipped = match skip_to_first_value(&mut reader) {
        Ok(skipped) => skipped,
        Err(e) => return sender.fail(unreadable(name, e)),
    };
    if skipped.first.is_none() && reading == JsonReading::Items {
        return sender.fail(Error::invalid(
            whole_label(name),
            "is not valid JSON: the file is empty",
        ));
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
                    whole_label(name)
                } else {
                    item_label(name, sender.next_index)
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
            Err(e) => sender.fail(not_json(whole_label(name), e)),
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
                    let label = item_label(name, sender.next_index);
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
    use std::io::BufReader;
    use std::sync::Arc;

    use super::*;
    use crate::stream::feed::ItemLabels;

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
}
