//! The crate graph points down: pure crates (formats and engines) never depend, directly
//! or through another crate, on the database, the HTTP server, the async runtime or the
//! store. Read from `cargo metadata`, so a new dependency that breaks the rule fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Crates that must stay pure: values in, values out.
const PURE: &[&str] = &["lms-package", "lms-rte", "lms-sequencing", "lms-xapi", "lms-schedule", "lms-certificate", "lms-cmi5", "lms-scorm-xapi"];
/// What a pure crate must never reach through its normal dependencies.
const FORBIDDEN: &[&str] = &["sqlx", "sqlx-core", "axum", "tokio", "hyper", "lms-store", "lms-server", "reqwest"];

struct Graph {
    /// package id → crate name
    names: BTreeMap<String, String>,
    /// package id → ids of its normal (non-dev, non-build) dependencies
    normal_deps: BTreeMap<String, Vec<String>>,
}

fn metadata() -> Graph {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let mut names = BTreeMap::new();
    for package in json["packages"].as_array().unwrap() {
        names.insert(package["id"].as_str().unwrap().to_string(), package["name"].as_str().unwrap().to_string());
    }
    let mut normal_deps = BTreeMap::new();
    for node in json["resolve"]["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap().to_string();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|dep| dep["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()))
            .map(|dep| dep["pkg"].as_str().unwrap().to_string())
            .collect();
        normal_deps.insert(id, deps);
    }
    Graph { names, normal_deps }
}

/// Names of every crate `root` reaches through normal dependencies, with one path to each.
fn reachable(graph: &Graph, root_name: &str) -> BTreeMap<String, Vec<String>> {
    let root = graph.names.iter().find(|(_, n)| n.as_str() == root_name).map(|(id, _)| id.clone()).unwrap();
    let mut seen = BTreeSet::from([root.clone()]);
    let mut out = BTreeMap::new();
    let mut stack = vec![(root, vec![root_name.to_string()])];
    while let Some((id, path)) = stack.pop() {
        for dep in graph.normal_deps.get(&id).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                let name = graph.names[dep].clone();
                let mut p = path.clone();
                p.push(name.clone());
                out.entry(name).or_insert_with(|| p.clone());
                stack.push((dep.clone(), p));
            }
        }
    }
    out
}

#[test]
fn pure_crates_do_no_io() {
    let graph = metadata();
    let mut violations = Vec::new();
    for krate in PURE {
        let reach = reachable(&graph, krate);
        for forbidden in FORBIDDEN {
            if let Some(path) = reach.get(*forbidden) {
                violations.push(format!("{krate} reaches {forbidden}: {}", path.join(" → ")));
            }
        }
    }
    assert!(violations.is_empty(), "pure crates must not depend on IO crates:\n{}", violations.join("\n"));
}

#[test]
fn only_the_store_names_sqlx_and_only_the_server_names_axum() {
    let graph = metadata();
    let direct = |name: &str| -> BTreeSet<String> {
        let id = graph.names.iter().find(|(_, n)| n.as_str() == name).map(|(id, _)| id.clone()).unwrap();
        graph.normal_deps[&id].iter().map(|d| graph.names[d].clone()).collect()
    };
    let ours: Vec<&String> = graph.names.values().filter(|n| n.starts_with("lms") || n.as_str() == "xtask").collect();
    for krate in ours {
        let deps = direct(krate);
        if deps.contains("sqlx") {
            assert_eq!(krate, "lms-store", "{krate} names sqlx directly; only lms-store may");
        }
        if deps.contains("axum") {
            assert_eq!(krate, "lms-server", "{krate} names axum directly; only lms-server may");
        }
    }
}

#[test]
fn the_rule_detects_a_violation() {
    // The check itself must be able to fail: the server reaches sqlx through the store.
    let graph = metadata();
    let reach = reachable(&graph, "lms-server");
    assert!(reach.contains_key("sqlx") && reach.contains_key("lms-store"));
}
