//! Finding the listing files `migrate-json --auto` and `init --import` take: `*.json`,
//! `*.ndjson` and `*.jsonl` under the given folders, in path order.
//!
//! The walk is the `ignore` crate's, the one ripgrep uses: hidden files and folders are
//! skipped, and so is whatever a `.gitignore` (or `.ignore`) names, even in a folder that is
//! not a git repository. `target/` and `node_modules/` are skipped too, with or without a
//! `.gitignore` saying so, since they hold build output and packages, never scraped listings.
//! The operator's global git excludes are not read, so the same folder gives the same files
//! on every machine, and symbolic links are not followed, so nothing outside the folders is
//! imported by accident.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use ignore::WalkBuilder;

use crate::error::Error;
use crate::stream::Format;

/// Folders never searched, whatever the ignore files say.
const SKIPPED_FOLDERS: [&str; 2] = ["target", "node_modules"];

/// One file to import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FoundFile {
    /// Where it is.
    pub path: PathBuf,
    /// How it is read (from its extension).
    pub format: Format,
    /// Its size in bytes, for progress.
    pub bytes: u64,
}

impl FoundFile {
    /// The path as reports and error labels show it: without a leading `./`.
    pub fn name(&self) -> String {
        display_name(&self.path)
    }

    fn at(path: PathBuf) -> Result<Self, Error> {
        let name = display_name(&path);
        let metadata = std::fs::metadata(&path)
            .map_err(|e| Error::invalid(&name, format!("cannot be read: {e}")))?;
        if metadata.is_dir() {
            return Err(Error::invalid(
                &name,
                "is a folder; pass --auto to import the files in it",
            ));
        }
        let format = Format::of(&path)
            .ok_or_else(|| Error::invalid(&name, "is not a .json, .ndjson or .jsonl file"))?;
        Ok(Self {
            path,
            format,
            bytes: metadata.len(),
        })
    }
}

/// The files under `roots` (the working directory when empty), sorted by path, each once. A
/// root that is a file is taken as it is, hidden or ignored, if it has a listing extension.
pub(crate) fn discover(roots: &[PathBuf]) -> Result<Vec<FoundFile>, Error> {
    let default_root = [PathBuf::from(".")];
    let roots = if roots.is_empty() {
        &default_root[..]
    } else {
        roots
    };
    let mut paths = BTreeSet::new();
    for root in roots {
        if !root.exists() {
            return Err(Error::invalid(display_name(root), "does not exist"));
        }
        let walk = WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .ignore(true)
            .parents(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(|entry| {
                let skipped = entry.file_type().is_some_and(|t| t.is_dir())
                    && SKIPPED_FOLDERS
                        .iter()
                        .any(|name| entry.file_name() == std::ffi::OsStr::new(name));
                !skipped
            })
            .build();
        for entry in walk {
            let entry = entry.map_err(|e| {
                Error::invalid(display_name(root), format!("cannot be searched: {e}"))
            })?;
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if is_file && (entry.depth() == 0 || Format::of(entry.path()).is_some()) {
                paths.insert(entry.into_path());
            }
        }
    }
    paths.into_iter().map(FoundFile::at).collect()
}

/// The files named on the command line, in the order given (each once).
pub(crate) fn named(paths: &[PathBuf]) -> Result<Vec<FoundFile>, Error> {
    let mut seen = BTreeSet::new();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        if seen.insert(path.clone()) {
            files.push(FoundFile::at(path.clone())?);
        }
    }
    Ok(files)
}

fn display_name(path: &Path) -> String {
    let mut components = path.components();
    if path.components().count() > 1 && components.next() == Some(Component::CurDir) {
        return components.as_path().display().to_string();
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_a_leading_dot() {
        assert_eq!(display_name(Path::new("./a/b.json")), "a/b.json");
        assert_eq!(display_name(Path::new(".")), ".");
        assert_eq!(display_name(Path::new("/tmp/x.json")), "/tmp/x.json");
        assert_eq!(display_name(Path::new("data/x.json")), "data/x.json");
    }
}
