//! The files `import` names on its command line: standard input is spooled to an unnamed
//! temporary file before the import begins, and a file whose extension does not say its
//! format is JSON if the whole of it is one JSON value, NDJSON otherwise.

use std::fs::File;
use std::io::{self, BufRead as _, BufReader, Seek as _};
use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use serde::de::IgnoredAny;

use super::{BOM, Format, ListingFile, READ_BUFFER, unreadable};
use crate::error::Error;

/// A file named on `import`'s command line, checked before the import begins; standard
/// input is read to its end then, so the import never holds its transaction open waiting
/// for input.
pub(crate) struct NamedFile {
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

#[cfg(test)]
mod tests {
    use super::*;

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
