//! Shared helpers: locating data files, gold-file comparison, editing JSON by dotted paths.

use std::path::PathBuf;

use lms_xapi::XapiVersion;
use serde_json::Value;

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `.json` files of a folder, sorted by name.
pub fn json_files(folder: &str) -> Vec<PathBuf> {
    let dir = data_dir().join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files in {}", dir.display());
    files
}

/// Compare `actual` with the gold file `tests/data/<name>`; with `UPDATE_EXPECT=1` rewrite it.
pub fn check_gold(name: &str, actual: &str) {
    let path = data_dir().join(name);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("gold file {} is missing; run with UPDATE_EXPECT=1", path.display()));
    if expected != actual {
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (e, a))| e != a)
            .map(|(i, (e, a))| format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1))
            .unwrap_or_else(|| "the files differ in length".into());
        panic!("{} differs from the output (UPDATE_EXPECT=1 refreshes it)\n{first_difference}", path.display());
    }
}

pub fn versions_of(case: &Value) -> Vec<XapiVersion> {
    match case.get("versions").and_then(Value::as_array) {
        None => vec![XapiVersion::V1_0_3, XapiVersion::V2_0_0],
        Some(list) => list
            .iter()
            .map(|v| XapiVersion::from_header(v.as_str().expect("version string")).expect("known version"))
            .collect(),
    }
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped.find(']').expect("closing bracket");
            out.push(Segment::Index(stripped[..end].parse().expect("index")));
            rest = &stripped[end + 1..];
        }
    }
    out
}

/// Set the value at a dotted path (`context.contextActivities.parent[0].id`), creating objects
/// on the way.
pub fn set_path(root: &mut Value, path: &str, value: Value) {
    let segments = segments(path);
    let mut current = root;
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match segment {
            Segment::Key(key) => {
                if !current.is_object() {
                    *current = Value::Object(Default::default());
                }
                let map = current.as_object_mut().unwrap();
                if last {
                    map.insert((*key).to_owned(), value);
                    return;
                }
                current = map.entry((*key).to_owned()).or_insert(Value::Null);
            }
            Segment::Index(index) => {
                let list = current.as_array_mut().unwrap_or_else(|| panic!("{path}: not an array"));
                if last {
                    list[*index] = value;
                    return;
                }
                current = &mut list[*index];
            }
        }
    }
}

pub fn remove_path(root: &mut Value, path: &str) {
    let segments = segments(path);
    let mut current = root;
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match segment {
            Segment::Key(key) => {
                let map = current.as_object_mut().unwrap_or_else(|| panic!("{path}: not an object"));
                if last {
                    assert!(map.remove(*key).is_some(), "{path}: nothing to remove");
                    return;
                }
                current = map.get_mut(*key).unwrap_or_else(|| panic!("{path}: missing"));
            }
            Segment::Index(index) => {
                let list = current.as_array_mut().unwrap();
                if last {
                    list.remove(*index);
                    return;
                }
                current = &mut list[*index];
            }
        }
    }
}
