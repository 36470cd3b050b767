//! The house rules that the compiler does not check: the domain and the stores never name a
//! wire body (`assent_proto::api`), so each protocol stays an adapter at the edge, and no file
//! is longer than 600 lines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources(crates: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for name in crates {
        rust_files(&root.join(name).join("src"), &mut files);
    }
    assert!(files.len() > 50, "the sources were not found: {files:?}");
    files
}

#[test]
fn neither_the_domain_nor_the_stores_name_a_wire_body() {
    let offenders: Vec<_> = sources(&[
        "assent-core",
        "assent-store-sqlite",
        "assent-store-postgres",
    ])
    .into_iter()
    .filter(|f| {
        std::fs::read_to_string(f)
            .unwrap()
            .contains("assent_proto::api")
    })
    .collect();
    assert!(
        offenders.is_empty(),
        "wire bodies belong to the server's protocol modules: {offenders:?}"
    );
}

#[test]
fn no_source_file_of_the_workspace_is_over_600_lines() {
    let crates: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let names: Vec<&str> = crates.iter().map(String::as_str).collect();
    let long: Vec<_> = sources(&names)
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().lines().count() > 600)
        .collect();
    assert!(long.is_empty(), "split these by job: {long:?}");
}
