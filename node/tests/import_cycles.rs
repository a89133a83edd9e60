//! No import cycle between the files of `node/src`, `sim/src` or `scenarios/src`: each definition lives where everything that
//! uses it can reach it without reaching back. The test reads every `.rs` file, maps each
//! `crate::…` and `super::…` path (in `use` statements and inline) and each relative `use` of a
//! child module to the file that defines it, and fails naming a cycle of the resulting graph.
//!
//! The model, deliberately small:
//! - `mod child;` declares the module tree and is no edge.
//! - A `pub use` re-export publishes an item at another path: a path through it resolves to
//!   the file that defines the item. The re-exporting file itself depends on that file only if
//!   it uses the name in its own code (so `pub use child::Type` beside `impl Parent` blocks in
//!   the child is the module tree, not a cycle).
//! - Comments and `#[cfg(test)] mod tests` blocks (last in a file) are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

struct Crate {
    /// File (relative to the source root) → its source with comments and tests removed.
    files: BTreeMap<String, String>,
    /// Module path → file.
    modules: BTreeMap<Module, String>,
    /// (file, re-exported name) → the absolute path it names.
    reexports: BTreeMap<(String, String), Module>,
}

fn rust_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path.strip_prefix(root).map(Path::to_path_buf).unwrap_or(path));
        }
    }
}

/// The module path of a file: `core/node/mod.rs` → `[core, node]`.
fn module_of(file: &str) -> Module {
    let mut parts: Module = file.trim_end_matches(".rs").split('/').map(String::from).collect();
    if parts.last().is_some_and(|last| last == "mod" || last == "lib" || last == "main") {
        parts.pop();
    }
    parts
}

fn strip(source: &str) -> String {
    let mut kept = String::new();
    for line in source.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // Tests come last in a file (STYLE.md); a test-only `mod x;` declaration too.
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let code = match line.find(" //") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        kept.push_str(code);
        kept.push('\n');
    }
    kept
}

/// Expands one `use` tree (`a::{b, c::{d as e}}`) into (path, local name) pairs.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<(Module, String)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let mut path = prefix.to_vec();
        path.extend(
            tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(String::from),
        );
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let (mut depth, mut start) = (0, 0);
        for (index, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..index], &path, out);
                    start = index + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &path, out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((path, alias)) => (path.trim(), Some(alias.trim().to_string())),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    full.extend(path.split("::").map(|s| s.trim().to_string()));
    let name = alias.unwrap_or_else(|| full.last().cloned().unwrap_or_default());
    if full.last().is_some_and(|last| last == "self") {
        full.pop();
    }
    out.push((full, name));
}

/// `use` statements of a file: (is `pub`, expanded paths).
fn uses(source: &str) -> Vec<(bool, Vec<(Module, String)>)> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("use ") {
        let before = &rest[..at];
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        let head = before[line_start..].trim();
        let statement_start = head.is_empty() || head.starts_with("pub");
        let Some(end) = rest[at..].find(';') else { break };
        if statement_start && (at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric())) {
            let mut paths = Vec::new();
            expand(&rest[at + 4..at + end], &[], &mut paths);
            found.push((head.starts_with("pub"), paths));
            rest = &rest[at + end..];
        } else {
            rest = &rest[at + 4..];
        }
    }
    found
}

/// Paths written inline: `crate::a::b` and `super::super::c`.
fn inline_paths(source: &str) -> Vec<Module> {
    let mut paths = Vec::new();
    for start in ["crate::", "super::"] {
        let mut rest = source;
        while let Some(at) = rest.find(start) {
            let boundary = at == 0
                || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
            let tail = &rest[at..];
            let len = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            if boundary {
                paths.push(
                    tail[..len].split("::").filter(|s| !s.is_empty()).map(String::from).collect(),
                );
            }
            rest = &rest[at + len.max(1)..];
        }
    }
    paths
}

impl Crate {
    fn read(root: &Path) -> Crate {
        let mut found = Vec::new();
        rust_files(root, root, &mut found);
        let mut files = BTreeMap::new();
        let mut modules = BTreeMap::new();
        for path in found {
            let file = path.to_string_lossy().replace('\\', "/");
            if file.starts_with("bin/") {
                continue; // Binaries are crates of their own.
            }
            let source = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            modules.insert(module_of(&file), file.clone());
            files.insert(file, strip(&source));
        }
        let mut krate = Crate { files, modules, reexports: BTreeMap::new() };
        let mut reexports = BTreeMap::new();
        for (file, source) in &krate.files {
            for (public, paths) in uses(source) {
                for (path, name) in paths {
                    if public && let Some(absolute) = krate.absolute(file, &path) {
                        reexports.insert((file.clone(), name), absolute);
                    }
                }
            }
        }
        krate.reexports = reexports;
        krate
    }

    /// `path` as written in `file`, made absolute (without the leading `crate`).
    fn absolute(&self, file: &str, path: &Module) -> Option<Module> {
        let here = module_of(file);
        let first = path.first()?;
        match first.as_str() {
            "crate" => Some(path[1..].to_vec()),
            "self" => Some([here, path[1..].to_vec()].concat()),
            "super" => {
                let ups = path.iter().take_while(|s| *s == "super").count();
                let base = here.get(..here.len().checked_sub(ups)?)?.to_vec();
                Some([base, path[ups..].to_vec()].concat())
            }
            _ => {
                // A relative path names a child module of this one (or an external crate).
                let child = [here, path.clone()].concat();
                let is_child = (1..=child.len()).any(|n| {
                    self.modules.contains_key(&child[..n]) && n > child.len() - path.len()
                });
                is_child.then_some(child)
            }
        }
    }

    /// The file defining what an absolute path names, following re-exports.
    fn resolve(&self, path: &Module, depth: usize) -> Option<String> {
        let n = (1..=path.len()).rev().find(|n| self.modules.contains_key(&path[..*n]))?;
        let file = self.modules.get(&path[..n])?.clone();
        if depth < 8
            && let Some(name) = path.get(n)
            && let Some(target) = self.reexports.get(&(file.clone(), name.clone()))
        {
            let mut target = target.clone();
            target.extend(path[n + 1..].iter().cloned());
            return self.resolve(&target, depth + 1).or(Some(file));
        }
        Some(file)
    }

    fn graph(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (file, source) in &self.files {
            let mut targets = BTreeSet::new();
            let statements = uses(source);
            for (public, paths) in &statements {
                for (path, name) in paths {
                    let Some(absolute) = self.absolute(file, path) else { continue };
                    // A re-export is a dependency only if this file uses the name itself.
                    if *public && name != "*" && !used_elsewhere(source, name) {
                        continue;
                    }
                    targets.extend(self.resolve(&absolute, 0));
                }
            }
            for path in inline_paths(source) {
                if let Some(absolute) = self.absolute(file, &path) {
                    targets.extend(self.resolve(&absolute, 0));
                }
            }
            targets.remove(file);
            graph.insert(file.clone(), targets);
        }
        graph
    }
}

/// Whether `name` occurs as a word outside `use` statements.
fn used_elsewhere(source: &str, name: &str) -> bool {
    let code: String = source
        .split(';')
        .filter(|statement| {
            let trimmed = statement.trim_start();
            !(trimmed.starts_with("use ")
                || trimmed.starts_with("pub use ")
                || trimmed.starts_with("pub(crate) use "))
        })
        .collect::<Vec<_>>()
        .join(";");
    let word = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name)
        .any(|(at, _)| !code[..at].ends_with(word) && !code[at + name.len()..].starts_with(word))
}

/// Every cycle's files (strongly connected components of more than one file), by Tarjan.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a str) {
        let next = state.index.len();
        state.index.insert(node, next);
        state.low.insert(node, next);
        state.stack.push(node);
        state.on_stack.insert(node);
        let graph = state.graph;
        for target in graph.get(node).into_iter().flatten() {
            let target = target.as_str();
            if !state.index.contains_key(target) {
                visit(state, target);
                let low = state.low[node].min(state.low[target]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(target) {
                let low = state.low[node].min(state.index[target]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack.remove(top);
                component.push(top.to_string());
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found
}

fn cycles_under(root: &Path) -> Vec<Vec<String>> {
    cycles(&Crate::read(root).graph())
}

#[test]
fn no_import_cycle_between_files_of_node_sim_and_scenarios() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for source in ["node/src", "sim/src", "scenarios/src"] {
        let root = workspace.join(source);
        assert!(root.is_dir(), "{} is not a directory", root.display());
        let found = cycles_under(&root);
        assert!(found.is_empty(), "import cycles in {source}: {found:?}");
    }
}

#[test]
fn the_checker_finds_a_cycle() {
    // Two files that import each other, one through `super::`, one through a re-export.
    let dir = std::env::temp_dir().join(format!("vein-import-cycles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "mod c;\npub use c::Thing;\nuse crate::b::Other;\n")
        .unwrap();
    std::fs::write(dir.join("a/c.rs"), "pub struct Thing;\n").unwrap();
    std::fs::write(dir.join("b.rs"), "use crate::a::Thing;\npub struct Other(Thing);\n").unwrap();
    // b → a/c.rs through the re-export; a/mod.rs → b: no cycle yet.
    assert!(cycles_under(&dir).is_empty(), "{:?}", cycles_under(&dir));
    std::fs::write(dir.join("a/c.rs"), "pub struct Thing(crate::b::Other);\n").unwrap();
    let found = cycles_under(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(found, vec![vec!["a/c.rs".to_string(), "b.rs".to_string()]]);
}
