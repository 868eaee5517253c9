//! The crate's module graph: the `crate::…` references between the top-level modules of
//! `src/` (outside test code) must form layers, with no cycle, and the core must never
//! depend on a feature module. `docs/architecture.md` draws the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Feature modules: built on the core, never imported by it.
const FEATURE_MODULES: [&str; 7] = ["battery", "market", "iot", "edge", "postgres", "sql", "cli"];

/// One reference from a module to another: where it was seen.
type Edges = BTreeMap<(String, String), (PathBuf, usize)>;

#[test]
fn top_level_modules_form_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = module_edges(&src);
    assert!(
        edges.keys().any(|(from, _)| from == "read"),
        "the scan found no references; is {} the crate's source?",
        src.display()
    );
    let cycles = cycles(&edges);
    let mut report = String::new();
    for cycle in &cycles {
        report.push_str(&format!("cycle: {}\n", cycle.join(" -> ")));
        for pair in cycle.windows(2) {
            let (file, line) = &edges[&(pair[0].clone(), pair[1].clone())];
            report.push_str(&format!(
                "  {} -> {} at {}:{line}\n",
                pair[0],
                pair[1],
                file.strip_prefix(&src).unwrap_or(file).display()
            ));
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{report}");
}

/// `src/lib.rs` declares the modules in layer order, lowest first: each module may import
/// only modules declared before it.
#[test]
fn modules_import_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let order: Vec<String> = without_comments(&lib)
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(str::to_string)
        })
        .collect();
    let rank = |m: &str| order.iter().position(|o| o == m);
    let mut wrong = Vec::new();
    for ((from, to), (file, line)) in module_edges(&src) {
        let place = format!(
            "{}:{line}",
            file.strip_prefix(&src).unwrap_or(&file).display()
        );
        match (rank(&from), rank(&to)) {
            (Some(f), Some(t)) if t < f => {}
            (Some(_), Some(_)) => wrong.push(format!("{from} -> {to} at {place}: {to} is not below {from} in lib.rs")),
            _ => wrong.push(format!("{from} -> {to} at {place}: name the module an item is defined in, declared in lib.rs")),
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layer order of src/lib.rs:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_core_never_imports_a_feature_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let wrong: Vec<String> = module_edges(&src)
        .into_iter()
        .filter(|((from, to), _)| {
            FEATURE_MODULES.contains(&to.as_str()) && !FEATURE_MODULES.contains(&from.as_str())
        })
        .map(|((from, to), (file, line))| format!("{from} -> {to} at {}:{line}", file.display()))
        .collect();
    assert!(
        wrong.is_empty(),
        "core modules import feature modules:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scanner_reads_grouped_and_inline_paths() {
    let text = "use crate::{a::X, b::{self, Y}};\nfn f() { crate::c::go(); }\n// crate::d in a comment\n#[cfg(test)]\nmod tests { use crate::e; }\n";
    let (refs, test_only) = references(text);
    let names: BTreeSet<&str> = refs.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["a", "b", "c"]));
    assert!(test_only.is_empty());
    let (_, test_only) = references("#[cfg(test)]\nmod properties;\n");
    assert_eq!(test_only, vec!["properties".to_string()]);
    let graph: Edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .into_iter()
        .map(|(x, y)| ((x.to_string(), y.to_string()), (PathBuf::new(), 0)))
        .collect();
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c", "a"]]);
}

/// Every reference between two top-level modules, with the first place it is made.
fn module_edges(src: &Path) -> Edges {
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    // Modules declared `#[cfg(test)] mod x;` are test code, wherever their file is.
    let mut test_files = BTreeSet::new();
    let mut parsed = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let (refs, test_only) = references(&text);
        let dir = module_dir(&file);
        for name in test_only {
            test_files.insert(dir.join(format!("{name}.rs")));
            test_files.insert(dir.join(&name).join("mod.rs"));
        }
        parsed.push((file, refs));
    }
    let mut edges = Edges::new();
    for (file, refs) in parsed {
        if test_files.contains(&file) {
            continue;
        }
        let Some(from) = top_module(src, &file) else {
            continue;
        };
        for (to, line) in refs {
            if to != from {
                edges
                    .entry((from.clone(), to))
                    .or_insert((file.clone(), line));
            }
        }
    }
    edges
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The directory a file's child modules live in: `a/b.rs` -> `a/b/`, `a/mod.rs` -> `a/`.
fn module_dir(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap().to_path_buf();
    match file.file_stem().and_then(|s| s.to_str()) {
        Some("mod" | "lib" | "main") => parent,
        Some(stem) => parent.join(stem),
        None => parent,
    }
}

/// `src/x.rs` and `src/x/…` belong to module `x`; `src/lib.rs` to none (it composes).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib").then(|| name.to_string())
}

/// The top-level modules `text` names through `crate::`, with their line, outside
/// comments and `#[cfg(test)]` items; and the modules it declares test-only.
fn references(text: &str) -> (Vec<(String, usize)>, Vec<String>) {
    let code = without_tests(&without_comments(text));
    let mut refs = Vec::new();
    let test_only = code.test_mods;
    let bytes = code.text.as_bytes();
    let mut at = 0;
    while let Some(found) = code.text[at..].find("crate::") {
        let start = at + found;
        at = start + "crate::".len();
        // `crate` must be a whole word (not `my_crate::`).
        if start > 0 && is_ident(bytes[start - 1]) {
            continue;
        }
        let line = code.text[..start].matches('\n').count() + 1;
        if bytes.get(at) == Some(&b'{') {
            for name in grouped_roots(&code.text[at..]) {
                refs.push((name, line));
            }
        } else {
            let name: String = code.text[at..]
                .bytes()
                .take_while(|b| is_ident(*b))
                .map(char::from)
                .collect();
            if !name.is_empty() {
                refs.push((name, line));
            }
        }
    }
    (refs, test_only)
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The first path segment of every item of a `{…}` group (`{a::X, b::{c, d}}` -> a, b).
fn grouped_roots(group: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    item_start = true;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => item_start = true,
            c if depth == 1 && item_start && (c.is_ascii_alphanumeric() || c == '_') => {
                current.push(c)
            }
            _ if depth == 1 && item_start && !current.is_empty() => {
                if current != "self" {
                    names.push(std::mem::take(&mut current));
                }
                current.clear();
                item_start = false;
            }
            _ => {}
        }
    }
    if !current.is_empty() && current != "self" {
        names.push(current);
    }
    names
}

/// `text` with `//` and `/* */` comments blanked (newlines kept, so lines still count);
/// string literals are kept as they are.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

struct Code {
    text: String,
    /// The names of `#[cfg(test)] mod name;` declarations.
    test_mods: Vec<String>,
}

/// `text` without the items that follow `#[cfg(test)]` (blanked, newlines kept).
fn without_tests(text: &str) -> Code {
    let mut out = String::with_capacity(text.len());
    let mut test_mods = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        // The item ends at its first `;` before any `{`, or at the `}` closing its body.
        let semicolon = item.find(';');
        let brace = item.find('{');
        let end = match (semicolon, brace) {
            (Some(s), Some(b)) if s < b => s + 1,
            (Some(s), None) => s + 1,
            (_, Some(b)) => {
                let mut depth = 0;
                let mut end = item.len();
                for (i, c) in item[b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, None) => item.len(),
        };
        let skipped = &item[..end];
        if let Some(decl) = skipped
            .split_whitespace()
            .skip_while(|w| *w != "mod")
            .nth(1)
            && let Some(name) = decl.strip_suffix(';')
        {
            test_mods.push(name.to_string());
        }
        out.extend(skipped.chars().filter(|c| *c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    Code {
        text: out,
        test_mods,
    }
}

/// Every cycle of the graph, one per strongly connected component of more than one
/// module, as a closed path starting at its smallest module.
fn cycles(edges: &Edges) -> Vec<Vec<String>> {
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from).or_default().push(to);
        graph.entry(to).or_default();
    }
    let nodes: Vec<&str> = graph.keys().copied().collect();
    let reach = |from: &str| -> BTreeSet<&str> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            for &m in &graph[n] {
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&str, BTreeSet<&str>> = nodes.iter().map(|&n| (n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut found = Vec::new();
    for &n in &nodes {
        if done.contains(n) || !reachable[n].contains(n) {
            continue;
        }
        let component: BTreeSet<&str> = nodes
            .iter()
            .copied()
            .filter(|&m| reachable[n].contains(m) && reachable[m].contains(n))
            .collect();
        done.extend(component.iter().copied());
        // A shortest path back to `n` inside the component.
        let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([n]);
        'search: while let Some(x) = queue.pop_front() {
            for &y in &graph[x] {
                if !component.contains(y) {
                    continue;
                }
                if y == n {
                    previous.insert(n, x);
                    break 'search;
                }
                if !previous.contains_key(y) {
                    previous.insert(y, x);
                    queue.push_back(y);
                }
            }
        }
        let mut path = vec![n.to_string()];
        let mut at = previous[n];
        while at != n {
            path.push(at.to_string());
            at = previous[at];
        }
        path.push(n.to_string());
        let last = path.len() - 1;
        path[1..last].reverse();
        found.push(path);
    }
    found
}
