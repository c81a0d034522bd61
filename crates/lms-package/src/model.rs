//! The one typed model every package format is parsed into.
//!
//! SCORM 1.2, SCORM 2004, cmi5, xAPI (TinCan) and AICC all end up as a [`Package`]:
//! organizations holding an item tree, resources with their files, and per-item
//! launch data. Format-specific details that have no common meaning (cmi5 `moveOn`,
//! IMS Simple Sequencing) are kept as typed data on the item.

use serde::Serialize;

use crate::sequencing::{Sequencing, SequencingCollection};

/// Which e-learning standard a package follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Standard {
    Scorm12,
    /// SCORM 2004; the edition is in [`Package::edition`].
    Scorm2004,
    Cmi5,
    /// xAPI content described by a `tincan.xml`.
    Xapi,
    Aicc,
}

impl Standard {
    pub fn as_str(self) -> &'static str {
        match self {
            Standard::Scorm12 => "scorm12",
            Standard::Scorm2004 => "scorm2004",
            Standard::Cmi5 => "cmi5",
            Standard::Xapi => "xapi",
            Standard::Aicc => "aicc",
        }
    }
}

/// SCORM 2004 edition, from `<schemaversion>` (and, failing that, from the namespaces used).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scorm2004Edition {
    Second,
    Third,
    Fourth,
}

/// A parsed package. Always produced, even for broken input: what could not be read is
/// missing here and explained in the diagnostics returned beside it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Package {
    pub standard: Standard,
    /// `Some` only for SCORM 2004.
    pub edition: Option<Scorm2004Edition>,
    /// The manifest's identifier (SCORM), course id (cmi5, AICC), or activity id (xAPI).
    pub identifier: String,
    /// The title a catalogue shows: the default organization's title, else the first
    /// item's, else the identifier.
    pub title: String,
    /// The `<schemaversion>` text as written, when there is one.
    pub schema_version: Option<String>,
    /// The path of the manifest (or structure file) inside the package, `/`-separated.
    pub manifest_path: String,
    /// The identifier of the default organization, when it resolves.
    pub default_organization: Option<String>,
    pub organizations: Vec<Organization>,
    pub resources: Vec<Resource>,
    /// SCORM 2004 `<imsss:sequencingCollection>`: definitions items refer to by `IDRef`.
    pub sequencing_collection: SequencingCollection,
}

impl Package {
    /// The resource an item launches, when it resolves.
    pub fn resource_of(&self, item: &Item) -> Option<&Resource> {
        let id = item.resource_ref.as_deref()?;
        self.resources.iter().find(|r| r.identifier == id)
    }

    /// The default organization (or, when it does not resolve, the first one).
    pub fn default_org(&self) -> Option<&Organization> {
        self.default_organization
            .as_deref()
            .and_then(|id| self.organizations.iter().find(|o| o.identifier == id))
            .or(self.organizations.first())
    }

    /// The first item of the default organization, depth first, that launches something.
    pub fn first_launchable_item(&self) -> Option<&Item> {
        fn find<'a>(items: &'a [Item], package: &Package) -> Option<&'a Item> {
            items.iter().find_map(|item| {
                if package.resource_of(item).is_some_and(|r| r.href.is_some()) {
                    Some(item)
                } else {
                    find(&item.children, package)
                }
            })
        }
        find(&self.default_org()?.items, self)
    }

    /// The package file `item` launches: the resource's `href` without query or fragment and
    /// with `%XX` escapes decoded, as stored in the package. `None` for content hosted
    /// elsewhere (absolute URLs) or when nothing is launched.
    pub fn launch_file(&self, item: &Item) -> Option<String> {
        let href = self.resource_of(item)?.href.as_deref()?;
        if crate::paths::is_absolute_url(href) {
            return None;
        }
        let (path, _) = crate::paths::split_query(href);
        Some(crate::paths::percent_decode(path))
    }

    /// The URL to open for `item`: its resource's `href` with the item's `parameters` joined
    /// as SCORM CAM describes (see [`append_parameters`]). cmi5 `launchParameters` are not
    /// part of the URL (they travel in `LMS.LaunchData`). `None` when nothing is launched.
    pub fn launch_url(&self, item: &Item) -> Option<String> {
        let href = self.resource_of(item)?.href.as_deref()?;
        match (self.standard, item.parameters.as_deref()) {
            (Standard::Cmi5, _) | (_, None) => Some(href.to_string()),
            (_, Some(parameters)) => Some(append_parameters(href, parameters)),
        }
    }
}

/// Joins launch `parameters` to `href` (SCORM 2004 CAM, "parameters" on `<item>`): a leading
/// `?` or `&` becomes whichever separator `href` needs; a `#fragment` is added only when
/// `href` has none; other text is appended as a query.
pub fn append_parameters(href: &str, parameters: &str) -> String {
    let parameters = parameters.trim();
    if let Some(fragment) = parameters.strip_prefix('#') {
        return if href.contains('#') || fragment.is_empty() { href.to_string() } else { format!("{href}#{fragment}") };
    }
    let query = parameters.trim_start_matches(['?', '&']);
    if query.is_empty() {
        return href.to_string();
    }
    let (base, fragment) = match href.find('#') {
        Some(i) => (&href[..i], &href[i..]),
        None => (href, ""),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{query}{fragment}")
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Organization {
    pub identifier: String,
    pub title: String,
    pub items: Vec<Item>,
    /// SCORM 2004 `adlseq:objectivesGlobalToSystem` (default true).
    pub objectives_global_to_system: bool,
    /// SCORM 2004 4th `adlcp:sharedDataGlobalToSystem` (default true).
    pub shared_data_global_to_system: bool,
    /// Sequencing defined on the organization (the root activity), if any.
    pub sequencing: Option<Sequencing>,
    /// cmi5 course-level objectives (ids) and similar format extras.
    pub objectives: Vec<String>,
}

/// One node of the activity tree. A leaf with a `resource_ref` is launchable (SCO or asset,
/// an AU in cmi5); an item with children is a cluster (a block in cmi5).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub identifier: String,
    pub title: String,
    /// `identifierref`: the resource this item launches.
    pub resource_ref: Option<String>,
    /// `parameters` appended to the resource's href at launch (SCORM), or the cmi5
    /// `launchParameters`.
    pub parameters: Option<String>,
    /// `isvisible` (default true).
    pub visible: bool,
    pub children: Vec<Item>,
    pub launch: LaunchData,
    pub sequencing: Option<Sequencing>,
    /// `adlnav:presentation` (SCORM 2004): which player controls the content hides.
    pub hide_lms_ui: Vec<HideLmsUi>,
    /// SCORM 2004 4th `adlcp:data/adlcp:map` shared data buckets.
    pub data_maps: Vec<DataMap>,
    /// SCORM 1.2 `adlcp:prerequisites` (AICC script), as written.
    pub prerequisites: Option<String>,
    /// cmi5 AU/block extras; `None` for other standards.
    pub cmi5: Option<Cmi5Item>,
    /// Where the item was declared, for messages.
    pub location: Location,
}

/// Launch-time data the LMS hands the run-time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LaunchData {
    /// SCORM 1.2 `adlcp:masteryscore` (0–100), cmi5 `masteryScore` (0–1) kept as written.
    pub mastery_score: Option<f64>,
    /// `adlcp:datafromlms` (1.2) / `adlcp:dataFromLMS` (2004) → `cmi.launch_data`.
    pub data_from_lms: Option<String>,
    /// `adlcp:maxtimeallowed` (1.2 `HH:MM:SS`, 2004 ISO 8601 duration), as written.
    pub max_time_allowed: Option<String>,
    /// `adlcp:timelimitaction` / `adlcp:timeLimitAction`.
    pub time_limit_action: Option<TimeLimitAction>,
    /// SCORM 2004 `adlcp:completionThreshold`.
    pub completion_threshold: Option<CompletionThreshold>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeLimitAction {
    ExitMessage,
    ExitNoMessage,
    ContinueMessage,
    ContinueNoMessage,
}

impl TimeLimitAction {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "exit,message" => Self::ExitMessage,
            "exit,no message" => Self::ExitNoMessage,
            "continue,message" => Self::ContinueMessage,
            "continue,no message" => Self::ContinueNoMessage,
            _ => return None,
        })
    }
    /// The SCORM vocabulary string (`cmi.time_limit_action`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExitMessage => "exit,message",
            Self::ExitNoMessage => "exit,no message",
            Self::ContinueMessage => "continue,message",
            Self::ContinueNoMessage => "continue,no message",
        }
    }
}

/// SCORM 2004 completion threshold. 3rd edition writes only a number (→ `min_progress_measure`
/// with `completed_by_measure = true`); 4th edition uses the attributes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CompletionThreshold {
    pub completed_by_measure: bool,
    pub min_progress_measure: f64,
    pub progress_weight: f64,
}

impl Default for CompletionThreshold {
    fn default() -> Self {
        CompletionThreshold { completed_by_measure: false, min_progress_measure: 1.0, progress_weight: 1.0 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HideLmsUi {
    Previous,
    Continue,
    Exit,
    ExitAll,
    Abandon,
    AbandonAll,
    SuspendAll,
}

impl HideLmsUi {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "previous" => Self::Previous,
            "continue" => Self::Continue,
            "exit" => Self::Exit,
            "exitAll" => Self::ExitAll,
            "abandon" => Self::Abandon,
            "abandonAll" => Self::AbandonAll,
            "suspendAll" => Self::SuspendAll,
            _ => return None,
        })
    }
    /// The SCORM vocabulary token (`exitAll`, `suspendAll`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Previous => "previous",
            Self::Continue => "continue",
            Self::Exit => "exit",
            Self::ExitAll => "exitAll",
            Self::Abandon => "abandon",
            Self::AbandonAll => "abandonAll",
            Self::SuspendAll => "suspendAll",
        }
    }
}

/// SCORM 2004 4th `adlcp:map`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataMap {
    pub target_id: String,
    /// default true
    pub read_shared_data: bool,
    /// default false
    pub write_shared_data: bool,
}

/// cmi5 per-AU/block data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cmi5Item {
    /// `true` for a block, `false` for an AU.
    pub is_block: bool,
    /// The AU's or block's IRI `id`.
    pub activity_id: String,
    pub move_on: Cmi5MoveOn,
    pub launch_method: Cmi5LaunchMethod,
    /// AU `url` as written: relative to the package or absolute.
    pub url: Option<String>,
    pub entitlement_key: Option<String>,
    /// Objective idrefs this AU/block references.
    pub objectives: Vec<String>,
    /// Localized titles and descriptions (`lang` → text), ordered by language tag.
    pub titles: Vec<(String, String)>,
    pub descriptions: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Cmi5MoveOn {
    Passed,
    Completed,
    CompletedAndPassed,
    CompletedOrPassed,
    NotApplicable,
}

impl Cmi5MoveOn {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "Passed" => Self::Passed,
            "Completed" => Self::Completed,
            "CompletedAndPassed" => Self::CompletedAndPassed,
            "CompletedOrPassed" => Self::CompletedOrPassed,
            "NotApplicable" => Self::NotApplicable,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "Passed",
            Self::Completed => "Completed",
            Self::CompletedAndPassed => "CompletedAndPassed",
            Self::CompletedOrPassed => "CompletedOrPassed",
            Self::NotApplicable => "NotApplicable",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Cmi5LaunchMethod {
    AnyWindow,
    OwnWindow,
}

/// A `<resource>`: something launchable (a SCO or asset) and the files it needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Resource {
    pub identifier: String,
    /// `adlcp:scormtype` / `adlcp:scormType`; `None` when absent.
    pub scorm_type: Option<ScormType>,
    /// `href` joined with `xml:base`, `/`-separated, relative to the package root (or absolute
    /// for cmi5/xAPI content hosted elsewhere). Query strings are kept.
    pub href: Option<String>,
    /// Listed `<file href>`s, relative to the package root.
    pub files: Vec<String>,
    /// `<dependency identifierref>`s.
    pub dependencies: Vec<String>,
    pub location: Location,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScormType {
    Sco,
    Asset,
}

/// A place in a package file: `/`-separated path inside the package, 1-based line and column.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.file.is_empty() {
            // A problem with the package as a whole (no manifest at all…).
            return write!(f, "(package)");
        }
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}
