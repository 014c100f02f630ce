//! Listing files streamed into the domain's [`ImportSession`], every item named by its file
//! and line in errors. `import` feeds all its files into one session (one transaction for
//! the batch); `migrate-json` feeds each file into a session of its own; the HTTP upload
//! feeds its request body into one.

use crate::domain::import::{ImportCounts, ImportSession};
use crate::entity::import_run;
use crate::error::Error;
use crate::stream::{
    BATCH_ITEMS, Batch, FileStream, Format, JsonReading, LineMark, ListingFile, item_label,
    line_label,
};

/// Files streamed one after another into one import session.
pub(crate) struct Feed {
    session: ImportSession,
    labels: ItemLabels,
    listings: usize,
}

impl Feed {
    /// Feeds `session`.
    pub fn new(session: ImportSession) -> Self {
        Self {
            session,
            labels: ItemLabels::default(),
            listings: 0,
        }
    }

    /// Listings read so far (those of a batch that failed included).
    pub fn listings(&self) -> usize {
        self.listings
    }

    /// Streams `file` into the session. After each batch, `progress` hears how far into the
    /// file the reader is (bytes), the listings read so far, and the counts.
    pub async fn add(
        &mut self,
        file: ListingFile,
        reading: JsonReading,
        mut progress: impl FnMut(u64, usize, ImportCounts),
    ) -> Result<(), Error> {
        self.labels
            .start_file(file.name().to_owned(), file.format(), self.listings);
        let mut stream = file.stream(reading, BATCH_ITEMS);
        let outcome = self.add_batches(&mut stream, &mut progress).await;
        stream.close().await;
        outcome
    }

    async fn add_batches(
        &mut self,
        stream: &mut FileStream,
        progress: &mut impl FnMut(u64, usize, ImportCounts),
    ) -> Result<(), Error> {
        while let Some(batch) = stream.next().await {
            let mut batch = batch?;
            self.labels.extend(&mut batch);
            self.listings += batch.items.len();
            let labels = &self.labels;
            self.session.add(batch.items, &|i| labels.label(i)).await?;
            progress(batch.bytes_read, self.listings, self.session.counts());
        }
        Ok(())
    }

    /// Ends the import: see [`ImportSession::finish`]. Dropping the feed instead rolls back.
    pub async fn finish(self) -> Result<import_run::Model, Error> {
        self.session.finish().await
    }
}

/// Names the items of an import, numbered across its files, from the line marks of the
/// batches read so far: `file.ndjson:701` (NDJSON: its line) or `file.json item 700` (JSON:
/// its index in its file).
#[derive(Debug, Default)]
pub(crate) struct ItemLabels {
    files: Vec<FileLabels>,
}

#[derive(Debug)]
struct FileLabels {
    name: String,
    format: Format,
    /// The import's index of the file's first item.
    first: usize,
    marks: Vec<LineMark>,
}

impl ItemLabels {
    /// Items from index `first` on come from the file shown as `name`.
    pub fn start_file(&mut self, name: String, format: Format, first: usize) {
        self.files.push(FileLabels {
            name,
            format,
            first,
            marks: Vec::new(),
        });
    }

    /// Takes in the line marks of the current file's next batch (before it is imported).
    pub fn extend(&mut self, batch: &mut Batch) {
        if let Some(file) = self.files.last_mut() {
            file.marks.append(&mut batch.line_marks);
        }
    }

    /// `file:line` (NDJSON) or `file item i` (JSON).
    pub fn label(&self, index: usize) -> String {
        let at = self.files.partition_point(|file| file.first <= index);
        let Some(file) = at.checked_sub(1).and_then(|k| self.files.get(k)) else {
            return format!("item {index}");
        };
        let index = index - file.first;
        match file.format {
            Format::Json => item_label(&file.name, index),
            Format::Ndjson => {
                let before = file.marks.partition_point(|mark| mark.index <= index);
                match before.checked_sub(1).and_then(|k| file.marks.get(k)) {
                    Some(mark) => line_label(&file.name, mark.line + (index - mark.index)),
                    None => item_label(&file.name, index),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_named_by_the_file_they_came_from() {
        let mut labels = ItemLabels::default();
        labels.start_file("a.json".into(), Format::Json, 0);
        labels.start_file("b.ndjson".into(), Format::Ndjson, 2);
        let mut batch = Batch {
            line_marks: vec![
                LineMark { index: 0, line: 1 },
                LineMark { index: 1, line: 3 },
            ],
            ..Batch::default()
        };
        labels.extend(&mut batch);
        // An empty file adds no item: the next file starts at the same index.
        labels.start_file("c.ndjson".into(), Format::Ndjson, 4);
        labels.start_file("d.json".into(), Format::Json, 4);
        let names: Vec<String> = (0..6).map(|i| labels.label(i)).collect();
        assert_eq!(
            names,
            [
                "a.json item 0",
                "a.json item 1",
                "b.ndjson:1",
                "b.ndjson:3",
                "d.json item 0",
                "d.json item 1"
            ]
        );
    }
}
