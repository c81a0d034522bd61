//! Joining manifest references (`xml:base` + `href`) and checking them against the package.

use std::collections::{HashMap, HashSet};

/// `true` when `href` carries a URL scheme (`https:`, `http:`, `mailto:`…): content that
/// lives outside the package.
pub(crate) fn is_absolute_url(href: &str) -> bool {
    let Some(colon) = href.find(':') else { return false };
    let scheme = &href[..colon];
    scheme.len() >= 2
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
}

/// Splits `path?query#fragment` into the path and the rest (rest keeps its `?`/`#`).
pub(crate) fn split_query(href: &str) -> (&str, &str) {
    match href.find(['?', '#']) {
        Some(i) => (&href[..i], &href[i..]),
        None => (href, ""),
    }
}

/// Why a reference cannot be resolved inside the package.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JoinError {
    /// The reference climbs above the package root with `..`.
    OutsidePackage,
}

/// Joins `base_dir` (the manifest's folder, `""` or ending in `/`), the `xml:base` values from
/// outermost to innermost, and `href`. Absolute URLs are kept as they are (a later absolute
/// part wins). The path part is normalized (`.` and `..` removed); the query is kept.
pub(crate) fn join_href(base_dir: &str, bases: &[&str], href: &str) -> Result<String, JoinError> {
    let href = href.trim();
    if is_absolute_url(href) {
        return Ok(href.to_string());
    }
    let mut combined = String::new();
    let mut remote = false;
    for part in std::iter::once(base_dir).chain(bases.iter().copied().map(str::trim)).chain(std::iter::once(href)) {
        if part.is_empty() {
            continue;
        }
        if is_absolute_url(part) {
            combined = part.to_string();
            remote = true;
        } else if let Some(rooted) = part.strip_prefix('/') {
            if remote {
                combined.push_str(rooted);
            } else {
                combined = rooted.to_string();
            }
        } else {
            if !combined.is_empty() && !combined.ends_with('/') {
                combined.push('/');
            }
            combined.push_str(part);
        }
        // Every base is a folder, whether or not it was written with a trailing `/`.
    }
    if remote {
        return Ok(combined);
    }
    let (path, rest) = split_query(&combined);
    // Windows tools sometimes write `\`; archive entry names get the same treatment.
    let path = path.replace('\\', "/");
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(JoinError::OutsidePackage);
                }
            }
            _ => parts.push(part),
        }
    }
    let mut out = parts.join("/");
    if path.ends_with('/') && !out.is_empty() {
        out.push('/');
    }
    out.push_str(rest);
    Ok(out)
}

/// Decodes `%XX` escapes (invalid escapes are kept as written).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The package's file list, for existence checks.
#[derive(Debug)]
pub(crate) struct FileIndex {
    exact: HashSet<String>,
    folders: HashSet<String>,
    lower: HashMap<String, String>,
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Found,
    /// Not there; a path differing only in letter case is (its spelling).
    CaseMismatch(String),
    Missing,
    /// The reference is outside the package (absolute URL) and was not checked.
    External,
}

impl FileIndex {
    pub fn new(files: &[String]) -> Self {
        let mut folders = HashSet::new();
        for f in files {
            let mut end = 0;
            while let Some(i) = f[end..].find('/') {
                folders.insert(f[..end + i].to_string());
                end += i + 1;
            }
        }
        FileIndex {
            exact: files.iter().cloned().collect(),
            folders,
            lower: files.iter().map(|f| (f.to_lowercase(), f.clone())).collect(),
        }
    }

    /// Looks up a joined reference (query and fragment ignored, `%XX` decoded). A reference
    /// to a folder counts as found.
    pub fn lookup(&self, href: &str) -> Lookup {
        if is_absolute_url(href) || href.starts_with('/') {
            return Lookup::External;
        }
        let (path, _) = split_query(href);
        let path = path.trim_end_matches('/');
        let decoded = percent_decode(path);
        if self.exact.contains(path) || self.exact.contains(&decoded) || self.folders.contains(&decoded) {
            return Lookup::Found;
        }
        match self.lower.get(&decoded.to_lowercase()) {
            Some(actual) => Lookup::CaseMismatch(actual.clone()),
            None => Lookup::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_bases_and_hrefs() {
        type Case<'a> = (&'a str, &'a [&'a str], &'a str, Result<String, JoinError>);
        let cases: [Case<'_>; 9] = [
            ("", &[], "index.html", Ok("index.html".into())),
            ("", &["resources/"], "a.htm?x=1", Ok("resources/a.htm?x=1".into())),
            ("", &["common"], "LMSTest.jar", Ok("common/LMSTest.jar".into())),
            ("course/", &["a/", "b/"], "./c.html", Ok("course/a/b/c.html".into())),
            ("", &["a/"], "../b.html", Ok("b.html".into())),
            ("", &[], "../b.html", Err(JoinError::OutsidePackage)),
            ("", &["http://cdn.example.com/x/"], "y.html", Ok("http://cdn.example.com/x/y.html".into())),
            ("", &["a/"], "https://e.org/p", Ok("https://e.org/p".into())),
            ("", &[], "content\\index.html?x=a\\b", Ok("content/index.html?x=a\\b".into())),
        ];
        for (base_dir, bases, href, expected) in cases {
            assert_eq!(join_href(base_dir, bases, href), expected, "{base_dir} {bases:?} {href}");
        }
    }

    #[test]
    fn looks_up_files() {
        let index = FileIndex::new(&["a/My File.html".to_string(), "b/index.html".to_string()]);
        assert_eq!(index.lookup("a/My%20File.html?x=1#top"), Lookup::Found);
        assert_eq!(index.lookup("b/Index.html"), Lookup::CaseMismatch("b/index.html".into()));
        assert_eq!(index.lookup("b/"), Lookup::Found);
        assert_eq!(index.lookup("c.html"), Lookup::Missing);
        assert_eq!(index.lookup("https://x.org/c.html"), Lookup::External);
        assert_eq!(percent_decode("100%"), "100%");
    }
}
