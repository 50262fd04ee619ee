//! `cargo xtask layout`: the library crates' source stays in small files that
//! do not import each other in a ring.
//!
//! Two rules, checked on every `.rs` file under the library crates' `src/`:
//!
//! - no file is longer than [`MAX_LINES`] lines;
//! - no two files import each other, directly or in a ring. A file imports
//!   another when one of its `use` declarations, or a `crate::`/`super::`
//!   path in its code, names an item of that file. An item named through a
//!   module's `pub use` re-export counts as the file that defines it; a
//!   module file declaring or re-exporting its own submodules is not an
//!   import; comments (doc links included) and the unit tests at the end of a
//!   file are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The longest a source file may be.
const MAX_LINES: usize = 500;

/// The `src/` folders of the library crates.
const LIBRARIES: [&str; 6] = [
    "sse-core/src",
    "sse-tower/src",
    "sse-axum/src",
    "sse-actix/src",
    "sse-redis/src",
    "sse-nats/src",
];

/// Checks every library crate; lists every file too long and every ring.
pub(crate) fn run() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for library in LIBRARIES {
        match check(&root.join(library)) {
            Ok(found) => problems.extend(found.into_iter().map(|p| format!("{library}: {p}"))),
            Err(error) => problems.push(format!("{library}: cannot read: {error}")),
        }
    }
    if problems.is_empty() {
        println!(
            "layout: no file over {MAX_LINES} lines, no import ring ({})",
            LIBRARIES.join(", ")
        );
        return ExitCode::SUCCESS;
    }
    for problem in &problems {
        println!("layout: {problem}");
    }
    ExitCode::FAILURE
}

/// The problems of one crate's `src/`.
fn check(src: &Path) -> std::io::Result<Vec<String>> {
    let crate_ = Crate::read(src)?;
    let mut problems = Vec::new();
    for (module, file) in &crate_.files {
        let lines = file.text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!("{} has {lines} lines", display(module)));
        }
    }
    for ring in rings(&crate_.imports()) {
        let names: Vec<String> = ring.iter().map(display).collect();
        problems.push(format!("import ring: {}", names.join(" -> ")));
    }
    Ok(problems)
}

/// A module path from the crate root: `["hub", "shared"]`.
type Module = Vec<String>;

fn display(module: &Module) -> String {
    if module.is_empty() {
        "lib.rs".to_owned()
    } else {
        module.join("/")
    }
}

struct SourceFile {
    /// The code: comments and the trailing unit tests removed.
    code: String,
    text: String,
    /// Whether it is a `mod.rs` or `lib.rs`, which can have submodules.
    is_module_root: bool,
}

struct Crate {
    files: BTreeMap<Module, SourceFile>,
}

impl Crate {
    fn read(src: &Path) -> std::io::Result<Self> {
        let mut files = BTreeMap::new();
        let mut folders = vec![src.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let path = entry?.path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                if path.extension().is_none_or(|ext| ext != "rs") {
                    continue;
                }
                let Ok(relative) = path.strip_prefix(src) else {
                    continue;
                };
                let mut module: Module = relative
                    .with_extension("")
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let is_module_root = matches!(
                    module.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                );
                if is_module_root {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path)?;
                files.insert(
                    module,
                    SourceFile {
                        code: code_of(&text),
                        text,
                        is_module_root,
                    },
                );
            }
        }
        Ok(Self { files })
    }

    /// Every file's imports of other files.
    fn imports(&self) -> BTreeMap<Module, BTreeSet<Module>> {
        let mut graph = BTreeMap::new();
        for (module, file) in &self.files {
            let mut targets = BTreeSet::new();
            for path in paths_in(&file.code) {
                let Some(target) = self.resolve(module, &path) else {
                    continue;
                };
                // A module file's own submodules: declared, not imported.
                let own_submodule = file.is_module_root && target.starts_with(module);
                if target != *module && !own_submodule {
                    targets.insert(target);
                }
            }
            graph.insert(module.clone(), targets);
        }
        graph
    }

    /// The file that defines what `path` (`crate::`, `super::` or `self::`)
    /// names, seen from `from`.
    fn resolve(&self, from: &Module, path: &[String]) -> Option<Module> {
        let (first, rest) = path.split_first()?;
        // `self::` and `super::` count from the module's own path; a file
        // that is not a module root is a module named after itself.
        let mut base: Module = match first.as_str() {
            "crate" => Vec::new(),
            "self" | "super" => from.clone(),
            _ => return None,
        };
        let mut rest = rest;
        if first == "super" {
            base.pop();
            while let Some(("super", tail)) = rest.split_first().map(|(s, t)| (s.as_str(), t)) {
                base.pop();
                rest = tail;
            }
        }
        let mut found = self.files.contains_key(&base).then(|| base.clone())?;
        let mut used = 0;
        for (index, segment) in rest.iter().enumerate() {
            let mut next = found.clone();
            next.push(segment.clone());
            if !self.files.contains_key(&next) {
                break;
            }
            found = next;
            used = index + 1;
        }
        // An item re-exported by a module file: where it is defined.
        if let Some(item) = rest.get(used) {
            if let Some(defined) = self.reexported(&found, item) {
                return Some(defined);
            }
        }
        Some(found)
    }

    /// The file defining `item` when `module` re-exports it with `pub use self::...`.
    fn reexported(&self, module: &Module, item: &str) -> Option<Module> {
        let file = self.files.get(module)?;
        if !file.is_module_root {
            return None;
        }
        for statement in use_statements(&file.code, true) {
            for path in expand(&statement) {
                if path.last().map(String::as_str) == Some(item) && path.first()? == "self" {
                    let mut defined = module.clone();
                    for segment in &path[1..path.len() - 1] {
                        defined.push(segment.clone());
                    }
                    if self.files.contains_key(&defined) {
                        return Some(defined);
                    }
                }
            }
        }
        None
    }
}

/// The text without comments and without the unit tests at its end.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(tests) => &text[..tests],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(comment) => &line[..comment],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The bodies of `use` declarations (`pub use` only when `public_only`).
fn use_statements(code: &str, public_only: bool) -> Vec<String> {
    let mut statements = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find("use ") {
        let before = &rest[..start];
        let at_word = before
            .chars()
            .last()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        let public = before[line_start..].trim_start().starts_with("pub");
        let after = &rest[start + 4..];
        let Some(end) = after.find(';') else {
            break;
        };
        if at_word && (public || !public_only) {
            statements.push(
                after[..end]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        rest = &after[end..];
    }
    statements
}

/// The paths of a use tree: `a::{b, c::{d, e}}` gives `a::b`, `a::c::d`,
/// `a::c::e`; a rename (`as x`) keeps the original name.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let original = tree.split(" as ").next().unwrap_or(tree);
        return vec![original.split("::").map(|s| s.trim().to_owned()).collect()];
    };
    let prefix: Vec<String> = tree[..open]
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let inner = tree[open + 1..]
        .strip_suffix('}')
        .unwrap_or(&tree[open + 1..]);
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (index, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|item| !item.trim().is_empty())
        .flat_map(expand)
        .map(|tail| prefix.iter().cloned().chain(tail).collect())
        .collect()
}

/// Every `crate::`/`super::`/`self::` path in the code: in `use`
/// declarations and inline.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut paths: Vec<Vec<String>> = use_statements(code, false)
        .iter()
        .flat_map(|statement| expand(statement))
        .collect();
    let bytes = code.as_bytes();
    for anchor in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(anchor) {
            let start = from + found;
            from = start + anchor.len();
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            let end = code[start..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |n| start + n);
            paths.push(
                code[start..end]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    paths
}

/// The rings of the import graph: its strongly connected parts of more than
/// one file, each in a cycle order.
fn rings(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    let nodes: Vec<&Module> = graph.keys().collect();
    let index_of: BTreeMap<&Module, usize> =
        nodes.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|m| {
            graph[*m]
                .iter()
                .filter_map(|t| index_of.get(t).copied())
                .collect()
        })
        .collect();
    // Kosaraju: the order of leaving on the graph, then the reversed graph.
    let mut order = Vec::new();
    let mut seen = vec![false; nodes.len()];
    for start in 0..nodes.len() {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![(start, 0)];
        while let Some((node, next)) = stack.pop() {
            if let Some(&to) = edges[node].get(next) {
                stack.push((node, next + 1));
                if !seen[to] {
                    seen[to] = true;
                    stack.push((to, 0));
                }
            } else {
                order.push(node);
            }
        }
    }
    let mut reversed = vec![Vec::new(); nodes.len()];
    for (from, tos) in edges.iter().enumerate() {
        for &to in tos {
            reversed[to].push(from);
        }
    }
    let mut component = vec![usize::MAX; nodes.len()];
    let mut rings = Vec::new();
    for &start in order.iter().rev() {
        if component[start] != usize::MAX {
            continue;
        }
        let mut members = vec![start];
        component[start] = start;
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            for &from in &reversed[node] {
                if component[from] == usize::MAX {
                    component[from] = start;
                    members.push(from);
                    stack.push(from);
                }
            }
        }
        if members.len() > 1 {
            members.sort_unstable();
            rings.push(members.into_iter().map(|i| nodes[i].clone()).collect());
        }
    }
    rings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_trees_expand_to_every_path() {
        let paths = expand("super::{a::{B, C}, d::E as F}");
        assert_eq!(
            paths,
            [
                vec!["super", "a", "B"],
                vec!["super", "a", "C"],
                vec!["super", "d", "E"]
            ]
        );
    }

    #[test]
    fn a_ring_is_found_and_a_chain_is_not() {
        let module = |name: &str| vec![name.to_owned()];
        let mut graph = BTreeMap::new();
        graph.insert(module("a"), BTreeSet::from([module("b")]));
        graph.insert(module("b"), BTreeSet::from([module("c")]));
        graph.insert(module("c"), BTreeSet::from([module("a")]));
        graph.insert(module("d"), BTreeSet::from([module("a")]));
        assert_eq!(rings(&graph), [vec![module("a"), module("b"), module("c")]]);
        graph.insert(module("c"), BTreeSet::new());
        assert!(rings(&graph).is_empty());
    }
}
