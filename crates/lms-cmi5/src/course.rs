//! A cmi5 course as the run-time needs it: AUs and blocks in document order, with the
//! LMS-generated activity ids (8.1.5.0-1, 9.3.9.0-3, 9.3.9.0-7) beside the publisher ids.

use lms_package::{Cmi5LaunchMethod, Cmi5MoveOn, Item, Package, Standard};
use serde::Serialize;

use crate::Cmi5Error;

/// An assignable unit. `index` in [`Course::aus`] is its number (document order).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Au {
    /// The `id` from `cmi5.xml` (publisher id).
    pub publisher_id: String,
    /// The activity id the LMS generated; the AU uses it as the object of its statements.
    pub activity_id: String,
    pub title: String,
    /// What to launch: a path inside the package (joined with the structure file's folder,
    /// with the AU's own query) or an absolute URL.
    pub launch_href: String,
    pub move_on: Cmi5MoveOn,
    /// `masteryScore` (0–1).
    pub mastery_score: Option<f64>,
    pub launch_method: Cmi5LaunchMethod,
    pub launch_parameters: Option<String>,
    pub entitlement_key: Option<String>,
    /// Indices in [`Course::blocks`] of the blocks holding this AU, innermost first.
    pub blocks: Vec<usize>,
}

/// A block.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Block {
    pub publisher_id: String,
    /// The LMS-generated block id used as object of its "satisfied" statements.
    pub activity_id: String,
    pub title: String,
    /// The enclosing block, if any.
    pub parent: Option<usize>,
    /// Every AU under this block (also through nested blocks).
    pub aus: Vec<usize>,
}

/// A course ready to launch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Course {
    pub publisher_id: String,
    /// The LMS-generated course id used as object of the course's "satisfied" statements.
    pub activity_id: String,
    pub title: String,
    pub aus: Vec<Au>,
    pub blocks: Vec<Block>,
}

impl Course {
    /// Builds the course from an importable cmi5 [`Package`]. `lms_base` is an IRI that is
    /// unique to this course in this LMS (for example `https://lms.example/cmi5/<course uuid>`):
    /// the course id is `lms_base`, block ids `lms_base/block/<n>` and AU activity ids
    /// `lms_base/au/<n>` (n = position in document order), so they stay the same for every
    /// launch and registration of the course (8.1.5.0-4).
    pub fn from_package(package: &Package, lms_base: &str) -> Result<Course, Cmi5Error> {
        if package.standard != Standard::Cmi5 {
            return Err(Cmi5Error::NotACmi5Course { standard: package.standard.as_str().to_string() });
        }
        let organization = package
            .organizations
            .first()
            .ok_or_else(|| Cmi5Error::NotACmi5Course { standard: "cmi5 without a course".to_string() })?;
        let base = lms_base.trim_end_matches('/').to_string();
        let mut course = Course {
            publisher_id: package.identifier.clone(),
            activity_id: base.clone(),
            title: package.title.clone(),
            aus: Vec::new(),
            blocks: Vec::new(),
        };
        for item in &organization.items {
            course.add(package, item, None, &base)?;
        }
        let publisher: std::collections::HashSet<&str> = std::iter::once(course.publisher_id.as_str())
            .chain(course.aus.iter().map(|a| a.publisher_id.as_str()))
            .chain(course.blocks.iter().map(|b| b.publisher_id.as_str()))
            .collect();
        let generated = std::iter::once(&course.activity_id)
            .chain(course.aus.iter().map(|a| &a.activity_id))
            .chain(course.blocks.iter().map(|b| &b.activity_id));
        if let Some(id) = generated.into_iter().find(|id| publisher.contains(id.as_str())) {
            return Err(Cmi5Error::GeneratedIdCollides { base: base.clone(), id: id.clone() });
        }
        Ok(course)
    }

    fn add(&mut self, package: &Package, item: &Item, parent: Option<usize>, base: &str) -> Result<(), Cmi5Error> {
        let Some(cmi5) = &item.cmi5 else {
            return Err(Cmi5Error::InvalidCourse { first: format!("the item `{}` carries no cmi5 data", item.identifier) });
        };
        if cmi5.is_block {
            let index = self.blocks.len();
            self.blocks.push(Block {
                publisher_id: item.identifier.clone(),
                activity_id: format!("{base}/block/{index}"),
                title: item.title.clone(),
                parent,
                aus: Vec::new(),
            });
            for child in &item.children {
                self.add(package, child, Some(index), base)?;
            }
            return Ok(());
        }
        let launch_href = item
            .resource_ref
            .as_ref()
            .and_then(|r| package.resources.iter().find(|res| &res.identifier == r))
            .and_then(|res| res.href.clone())
            .ok_or_else(|| Cmi5Error::InvalidCourse { first: format!("the AU `{}` has no launchable url", item.identifier) })?;
        let index = self.aus.len();
        let mut blocks = Vec::new();
        let mut current = parent;
        while let Some(b) = current {
            blocks.push(b);
            self.blocks[b].aus.push(index);
            current = self.blocks[b].parent;
        }
        self.aus.push(Au {
            publisher_id: item.identifier.clone(),
            activity_id: format!("{base}/au/{index}"),
            title: item.title.clone(),
            launch_href,
            move_on: cmi5.move_on,
            mastery_score: item.launch.mastery_score,
            launch_method: cmi5.launch_method,
            launch_parameters: item.parameters.clone().filter(|p| !p.is_empty()),
            entitlement_key: cmi5.entitlement_key.clone().filter(|k| !k.is_empty()),
            blocks,
        });
        Ok(())
    }

    /// The AU numbered `index`.
    pub fn au(&self, index: usize) -> Result<&Au, Cmi5Error> {
        self.aus.get(index).ok_or(Cmi5Error::UnknownAu { index, count: self.aus.len() })
    }

    /// The AU whose LMS activity id is `activity_id`.
    pub fn au_by_activity_id(&self, activity_id: &str) -> Option<usize> {
        self.aus.iter().position(|a| a.activity_id == activity_id)
    }

    /// The absolute URL the browser opens for AU `index`, before the cmi5 launch parameters:
    /// its `launch_href` as is when absolute, else joined to `content_base` (the URL under
    /// which the LMS serves the package's files, e.g. `http://127.0.0.1:8080/content/42/`).
    pub fn content_url(&self, index: usize, content_base: &str) -> Result<String, Cmi5Error> {
        let href = &self.au(index)?.launch_href;
        if has_scheme(href) {
            return Ok(href.clone());
        }
        let base = content_base.trim_end_matches('/');
        Ok(format!("{base}/{}", href.trim_start_matches('/')))
    }
}

fn has_scheme(href: &str) -> bool {
    href.find(':').is_some_and(|i| {
        i >= 2
            && href.as_bytes()[0].is_ascii_alphabetic()
            && href[..i].bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}
