//! Reading listing files for `import`: `.json` (one object or an array), `.ndjson`/`.jsonl`
//! (one object a line), or `-` for standard input (either form, told apart by content). Each
//! item remembers where it came from, so an error names the file and line.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;

/// Where an item came from.
#[derive(Clone, Debug)]
pub struct Origin {
    file: usize,
    /// Line (NDJSON) or array index (JSON).
    position: usize,
    line_based: bool,
}

/// Items read from files, with their origins.
#[derive(Debug, Default)]
pub struct LoadedItems {
    /// Every item, in file order.
    pub items: Vec<Value>,
    origins: Vec<Origin>,
    files: Vec<String>,
}

impl LoadedItems {
    /// Names item `index` as `file:line` or `file item N`.
    pub fn label(&self, index: usize) -> String {
        match self.origins.get(index) {
            Some(origin) if origin.line_based => {
                format!("{}:{}", self.files[origin.file], origin.position)
            }
            Some(origin) => format!("{} item {}", self.files[origin.file], origin.position),
            None => format!("item {index}"),
        }
    }

    /// Reads every file in `paths` (`-` is standard input).
    pub fn read(paths: &[PathBuf]) -> Result<Self, Error> {
        let mut loaded = Self::default();
        for path in paths {
            let name = path.display().to_string();
            let text = read_text(path)
                .map_err(|e| Error::invalid(&name, format!("cannot be read: {e}")))?;
            let file = loaded.files.len();
            loaded.files.push(name.clone());
            let ndjson = match extension(path).as_deref() {
                Some("ndjson" | "jsonl") => true,
                Some("json") => false,
                _ => serde_json::from_str::<Value>(&text).is_err(),
            };
            if ndjson {
                for (n, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let value: Value = serde_json::from_str(line).map_err(|e| {
                        Error::invalid(
                            format!("{name}:{}", n + 1),
                            format!("is not valid JSON: {e}"),
                        )
                    })?;
                    loaded.push(value, file, n + 1, true);
                }
            } else {
                let value: Value = serde_json::from_str(&text)
                    .map_err(|e| Error::invalid(&name, format!("is not valid JSON: {e}")))?;
                match value {
                    Value::Array(items) => {
                        for (i, item) in items.into_iter().enumerate() {
                            loaded.push(item, file, i, false);
                        }
                    }
                    other => loaded.push(other, file, 0, false),
                }
            }
        }
        Ok(loaded)
    }

    fn push(&mut self, value: Value, file: usize, position: usize, line_based: bool) {
        self.items.push(value);
        self.origins.push(Origin {
            file,
            position,
            line_based,
        });
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

fn read_text(path: &Path) -> std::io::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}
