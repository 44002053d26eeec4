//! The house of plans (issue 22): no two sibling modules of `grpc/`, `store/` or `domain/` use
//! each other, directly or round a longer circle. Read from the sources, as a reviewer would.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `path` (a file, or a directory of them).
fn sources(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        files.extend(sources(&entry.unwrap().path()));
    }
    files
}

/// The names after each `prefix` in `text`: `prefix name` or `prefix {a, b::c}` (every
/// lower-case identifier in the braces, nested ones included).
fn named_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in text.match_indices(prefix) {
        let rest = &text[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut end) = (1, 0);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            names.extend(
                group[..end]
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|w| w.starts_with(|c: char| c.is_ascii_lowercase()))
                    .map(str::to_owned),
            );
        } else {
            names.insert(ident(rest));
        }
    }
    names
}

/// Which sibling modules of `dir` each one uses.
fn uses(dir: &str) -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name != "mod" {
            modules.insert(name, path);
        }
    }
    let siblings: BTreeSet<String> = modules.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (name, path) in &modules {
        let mut used = BTreeSet::new();
        for file in sources(path) {
            let text = std::fs::read_to_string(&file).unwrap();
            // From a module's own file `super::` is the directory; from a file inside a module
            // directory it is that module, and the directory is one more `super::` up.
            let nested = file.parent() != Some(root.as_path());
            let up = if nested { "super::super::" } else { "super::" };
            used.extend(named_after(&text, up));
            used.extend(named_after(&text, &format!("crate::{dir}::")));
        }
        used.retain(|other| other != name && siblings.contains(other));
        graph.insert(name.clone(), used);
    }
    graph
}

/// A circle in `graph`, if it has one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(path[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in &graph[node] {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_of_plans_is_in_an_import_circle() {
    for dir in ["grpc", "store", "domain"] {
        let graph = uses(dir);
        assert!(graph.len() > 3, "{dir}: the modules were read");
        assert_eq!(circle(&graph), None, "an import circle in {dir}/");
    }
}

#[test]
fn the_check_finds_a_circle_where_there_is_one() {
    let text = "use super::{progress::publish, convert};\nuse super::super::plan::x;";
    assert_eq!(
        named_after(text, "super::"),
        ["convert", "plan", "progress", "publish", "super"]
            .map(str::to_owned)
            .into()
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("account", vec!["plan"]),
        ("plan", vec!["progress"]),
        ("progress", vec!["account"]),
        ("convert", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        circle(&graph),
        Some(vec!["account".into(), "plan".into(), "progress".into()])
    );
}
