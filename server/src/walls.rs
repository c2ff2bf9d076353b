//! Holds the walls between the server's rooms (README, "Layout"): which
//! room's code may name which other room through `crate::`. The root,
//! lib.rs, wires the rooms together and no room names it; the rules have no
//! cycle, so each room can be read, and tested, with only the rooms below it.
//!
//! It reads every file under src/ as text. Test modules (`#[cfg(test)] mod`)
//! are left out: like the integration tests, they may build the whole server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each room and the rooms its code may import. A top-level file is a room
/// of its own, named without `.rs`.
const RULES: &[(&str, &[&str])] = &[
    // The HTTP edge: handlers ask the hub or the room that owns the data,
    // never the store (see also the test below).
    (
        "api",
        &[
            "accounts", "admin", "audio", "clock", "config", "metrics", "sharing", "sync",
            "tokens", "uploads",
        ],
    ),
    (
        "admin",
        &[
            "accounts", "audio", "clock", "config", "metrics", "sharing", "store", "sync",
            "uploads",
        ],
    ),
    ("audio", &["clock", "speech", "store", "sync", "uploads"]),
    // A user's root document, and its list of what is shared with them.
    ("accounts", &["clock", "sharing", "store", "sync", "tokens"]),
    // The sync core knows nothing of HTTP, accounts or files.
    ("sync", &["clock", "metrics", "sharing", "store"]),
    ("sharing", &["clock", "store", "tokens"]),
    ("uploads", &["clock", "store"]),
    ("speech", &[]),
    ("store", &[]),
    ("metrics", &[]),
    // Defaults that are another room's to know (an invitation's expiry).
    ("config", &["sharing"]),
    ("clock", &[]),
    ("tokens", &[]),
    ("logging", &[]),
];

/// Files that are not a room: the root and the binary (its own crate).
const ROOT_FILES: [&str; 2] = ["lib.rs", "main.rs"];
const THIS_FILE: &str = "walls.rs";

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for item in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = item.expect("src/ is readable").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The room of a file under src/, or `None` for the root's own files.
fn room_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    if relative.components().count() == 1 {
        if ROOT_FILES.contains(&first) || first == THIS_FILE {
            return None;
        }
        return Some(first.trim_end_matches(".rs").to_owned());
    }
    Some(first.to_owned())
}

/// A file's code without comments and without its test modules.
fn production_code(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(item) = trimmed.strip_prefix("#[cfg(test)]") {
            // The item the attribute is on: a test module up to its closing
            // brace, or a single line.
            let braces =
                |line: &str| line.matches('{').count() as i32 - line.matches('}').count() as i32;
            let mut depth = braces(item);
            if item.trim().is_empty() || depth > 0 {
                for line in lines.by_ref() {
                    depth += braces(line);
                    if depth <= 0 {
                        break;
                    }
                }
            }
            continue;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push_str(line.split(" //").next().unwrap_or(line));
        code.push('\n');
    }
    code
}

/// The first segment of every `crate::` path: `crate::sync::hub::Hub` and
/// `crate::{sync::hub::Hub, store}` name `sync` (and `store`).
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(group.len(), |(index, _)| index);
            for part in split_top_level(&group[..end]) {
                if let Some(name) = first_segment(part) {
                    found.insert(name);
                }
            }
        } else if let Some(name) = first_segment(rest) {
            found.insert(name);
        }
    }
    found
}

fn split_top_level(group: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&group[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&group[start..]);
    parts
}

fn first_segment(path: &str) -> Option<String> {
    let name: String = path
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Every room's imports of other rooms, by file.
fn imports_by_file() -> Vec<(String, String, BTreeSet<String>)> {
    let src = src();
    rust_files(&src)
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(&src).expect("under src/").to_path_buf();
            let room = room_of(&relative)?;
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            let imports = crate_imports(&production_code(&text))
                .into_iter()
                .filter(|name| *name != room)
                .collect();
            Some((relative.display().to_string(), room, imports))
        })
        .collect()
}

fn rules() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    RULES
        .iter()
        .map(|(room, allowed)| (*room, allowed.iter().copied().collect()))
        .collect()
}

#[test]
fn the_scan_finds_the_rooms_and_their_imports() {
    let found = imports_by_file();
    let imports_of = |file: &str| {
        found
            .iter()
            .find(|(name, _, _)| name == file)
            .map(|(_, _, imports)| imports.clone())
            .unwrap_or_else(|| panic!("{file} not scanned"))
    };
    assert!(imports_of("sync/hub.rs").contains("sharing"));
    assert!(imports_of("api/mod.rs").contains("accounts"));
    let grouped = crate_imports("use crate::{config::Config, sync::{hub::Hub, doc_store}};");
    assert_eq!(grouped, BTreeSet::from(["config".into(), "sync".into()]));
    let test_only =
        production_code("use crate::a;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n}\n");
    assert_eq!(crate_imports(&test_only), BTreeSet::from(["a".into()]));
}

#[test]
fn every_room_has_a_rule() {
    let rules = rules();
    let unruled: BTreeSet<String> = imports_by_file()
        .into_iter()
        .map(|(_, room, _)| room)
        .filter(|room| !rules.contains_key(room.as_str()))
        .collect();
    assert!(
        unruled.is_empty(),
        "rooms with no rule in src/walls.rs (add them, and to README's Layout): {unruled:?}"
    );
}

#[test]
fn each_room_imports_only_the_rooms_it_may() {
    let rules = rules();
    let mut breaches = Vec::new();
    for (file, room, imports) in imports_by_file() {
        let Some(allowed) = rules.get(room.as_str()) else {
            continue;
        };
        for name in imports {
            if !allowed.contains(name.as_str()) {
                let what = if rules.contains_key(name.as_str()) {
                    format!("crate::{name}")
                } else {
                    format!("crate::{name} (the root, lib.rs)")
                };
                breaches.push(format!(
                    "src/{file}: {room} may not import {what}; it may import {allowed:?}"
                ));
            }
        }
    }
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}

#[test]
fn no_handler_holds_or_builds_the_raw_store() {
    let src = src();
    let breaches: Vec<String> = rust_files(&src.join("api"))
        .into_iter()
        .flat_map(|path| {
            let code = production_code(&std::fs::read_to_string(&path).expect("UTF-8"));
            let file = path
                .strip_prefix(&src)
                .expect("under src/")
                .display()
                .to_string();
            [
                "dyn Store",
                "DocStore::new",
                "DocStore,",
                "DocStore}",
                "DocStore;",
            ]
            .into_iter()
            .filter(|raw| code.contains(raw))
            .map(move |raw| format!("src/{file} names {raw:?}: ask the hub (e.g. owner_of)"))
            .collect::<Vec<_>>()
        })
        .collect();
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}

#[test]
fn the_rules_have_no_cycle() {
    let rules = rules();
    // Depth-first from every room; meeting a room on the current path is a cycle.
    fn visit<'a>(
        room: &'a str,
        rules: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|on| *on == room) {
            panic!(
                "the rules allow a cycle: {} -> {room}",
                path[at..].join(" -> ")
            );
        }
        if !done.insert(room) {
            return;
        }
        path.push(room);
        for next in rules.get(room).into_iter().flatten() {
            visit(next, rules, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for room in rules.keys() {
        visit(room, &rules, &mut Vec::new(), &mut done);
    }
}
