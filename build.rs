//! Embeds GraphiQL's browser files in the binary, so the running server needs no network.
//!
//! They are npm packages pinned in `graphiql/package.json` and `graphiql/package-lock.json`
//! (whose integrity hashes `npm ci` checks). When `graphiql/node_modules` does not hold the
//! pinned versions and npm is installed, this script runs `npm ci` there. When the files
//! cannot be had (no npm, no network, or `SYNC_GRAPHIQL_ASSETS=none`), the build still
//! succeeds, with a warning, and the server's GraphiQL page says how to get them.
//!
//! It writes `$OUT_DIR/graphiql_assets.rs`, which `src/http/graphiql.rs` includes:
//! `BUNDLE: Result<Bundle, &str>`, the files (`include_bytes!`) and their licences, or why
//! they are missing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// The files the page loads: (package, file in the package, name served).
const FILES: &[(&str, &str, &str)] = &[
    (
        "react",
        "umd/react.production.min.js",
        "react.production.min.js",
    ),
    (
        "react-dom",
        "umd/react-dom.production.min.js",
        "react-dom.production.min.js",
    ),
    ("graphiql", "graphiql.min.js", "graphiql.min.js"),
    ("graphiql", "graphiql.min.css", "graphiql.min.css"),
    ("graphql-ws", "umd/graphql-ws.min.js", "graphql-ws.min.js"),
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=graphiql/package.json");
    println!("cargo::rerun-if-changed=graphiql/package-lock.json");
    println!("cargo::rerun-if-changed=graphiql/node_modules/.package-lock.json");
    println!("cargo::rerun-if-env-changed=SYNC_GRAPHIQL_ASSETS");
    let Some(manifest_dir) = env::var_os("CARGO_MANIFEST_DIR") else {
        panic!("cargo sets CARGO_MANIFEST_DIR for build scripts");
    };
    let Some(out_dir) = env::var_os("OUT_DIR") else {
        panic!("cargo sets OUT_DIR for build scripts");
    };
    let dir = PathBuf::from(manifest_dir).join("graphiql");
    let out = PathBuf::from(out_dir);
    let generated = match bundle(&dir, &out) {
        Ok(code) => code,
        Err(why) => {
            println!("cargo::warning=GraphiQL's files are not embedded: {why}");
            // Also notice `node_modules` coming back whole (moved or copied in, older files).
            println!("cargo::rerun-if-changed=graphiql");
            format!("const BUNDLE: Result<Bundle, &str> = Err({why:?});\n")
        }
    };
    if let Err(err) = fs::write(out.join("graphiql_assets.rs"), generated) {
        panic!("cannot write {}: {err}", out.display());
    }
}

/// The generated code for the embedded files, or why they cannot be embedded.
fn bundle(dir: &Path, out: &Path) -> Result<String, String> {
    if env::var("SYNC_GRAPHIQL_ASSETS").is_ok_and(|v| v == "none") {
        return Err("this binary was built with SYNC_GRAPHIQL_ASSETS=none".into());
    }
    let pins = pinned_versions(dir)?;
    if installed_mismatch(dir, &pins).is_some() {
        npm_ci(dir)?;
    }
    if let Some(mismatch) = installed_mismatch(dir, &pins) {
        return Err(format!(
            "after `npm ci`, {mismatch} in graphiql/node_modules"
        ));
    }
    let licenses = licenses(dir)?;
    let licenses_path = out.join("graphiql-licenses.txt");
    fs::write(&licenses_path, licenses).map_err(|e| format!("cannot write licences: {e}"))?;
    let mut code = String::from("const BUNDLE: Result<Bundle, &str> = Ok(Bundle {\n");
    let _ = writeln!(
        code,
        "    graphiql_version: {:?},",
        pins_of(&pins, "graphiql")
    );
    code.push_str("    files: &[\n");
    for (package, file, name) in FILES {
        let path = dir.join("node_modules").join(package).join(file);
        if !path.is_file() {
            return Err(format!("{} is missing", path.display()));
        }
        let _ = writeln!(
            code,
            "        ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("    ],\n");
    let _ = writeln!(
        code,
        "    licenses: include_str!({:?}),",
        licenses_path.display().to_string()
    );
    code.push_str("});\n");
    Ok(code)
}

/// The exact versions `graphiql/package.json` pins: (package, version).
fn pinned_versions(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let manifest = read_json(&dir.join("package.json"))?;
    let Some(dependencies) = manifest["dependencies"].as_object() else {
        return Err("graphiql/package.json has no dependencies".into());
    };
    Ok(dependencies
        .iter()
        .map(|(name, version)| (name.clone(), version.as_str().unwrap_or("").to_owned()))
        .collect())
}

fn pins_of<'a>(pins: &'a [(String, String)], package: &str) -> &'a str {
    pins.iter()
        .find(|(name, _)| name == package)
        .map_or("", |(_, version)| version.as_str())
}

/// The first pinned package that `node_modules` lacks or holds in another version.
fn installed_mismatch(dir: &Path, pins: &[(String, String)]) -> Option<String> {
    pins.iter().find_map(|(name, version)| {
        let manifest = dir.join("node_modules").join(name).join("package.json");
        match read_json(&manifest) {
            Ok(installed) if installed["version"] == version.as_str() => None,
            Ok(installed) => Some(format!("{name} is {}, not {version}", installed["version"])),
            Err(_) => Some(format!("{name} {version} is not installed")),
        }
    })
}

/// `npm ci` in `dir`: installs exactly the lock file's versions, checking their integrity.
fn npm_ci(dir: &Path) -> Result<(), String> {
    let how = "run `npm ci` in graphiql/ on a machine with npm and network access, then rebuild";
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .args(["--fetch-retries=1", "--fetch-timeout=30000"])
        .current_dir(dir)
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`npm ci` in graphiql/ failed ({status}): {how}")),
        Err(err) => Err(format!("npm cannot be run ({err}): {how}")),
    }
}

/// Every installed package's licence (the lock file lists them, GraphiQL's bundle holds most
/// of them), as one text.
fn licenses(dir: &Path) -> Result<String, String> {
    let lock = read_json(&dir.join("package-lock.json"))?;
    let Some(packages) = lock["packages"].as_object() else {
        return Err("graphiql/package-lock.json lists no packages".into());
    };
    let mut text = String::from(
        "Licences of the software in Sync Manager's GraphiQL page: GraphiQL, React, \
         graphql-ws and the packages they bundle (from graphiql/package-lock.json).\n",
    );
    for (path, package) in packages {
        let Some((_, name)) = path.rsplit_once("node_modules/") else {
            continue;
        };
        let version = package["version"].as_str().unwrap_or("?");
        let license = package["license"].as_str().unwrap_or("see the package");
        let _ = write!(
            text,
            "\n{}\n{name} {version} ({license})\n{}\n\n",
            "=".repeat(78),
            "=".repeat(78)
        );
        match license_file(&dir.join(path)) {
            Some(body) => text.push_str(body.trim_end()),
            None => {
                let _ = write!(
                    text,
                    "The package ships no licence file; its package.json says: {license}."
                );
            }
        }
        text.push('\n');
    }
    Ok(text)
}

fn license_file(package_dir: &Path) -> Option<String> {
    let mut names: Vec<PathBuf> = fs::read_dir(package_dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .map(str::to_ascii_lowercase)
                .is_some_and(|n| n.starts_with("license") || n.starts_with("licence"))
        })
        .collect();
    names.sort();
    fs::read_to_string(names.first()?).ok()
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}
