//! The player's view of a stored package: the item tree of the default organization, what
//! each SCO launches, the run-time configuration of an item, simple navigation and the
//! registration report. Read from the `model_json` the store keeps per package version.

use std::collections::BTreeMap;

use lms_rte::{AttemptConfig, Completion, ScormVersion, SharedDataMap, Success, TimeLimitAction};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub(crate) struct Model {
    pub standard: String,
    /// Where the manifest is inside the package (the sequencer reads it again).
    #[serde(default)]
    pub manifest_path: Option<String>,
    #[serde(default)]
    pub default_organization: Option<String>,
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub resources: Vec<Resource>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Organization {
    pub identifier: String,
    pub title: String,
    #[serde(default)]
    pub items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Item {
    pub identifier: String,
    pub title: String,
    #[serde(default)]
    pub resource_ref: Option<String>,
    #[serde(default)]
    pub parameters: Option<String>,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub children: Vec<Item>,
    #[serde(default)]
    pub launch: Launch,
    #[serde(default)]
    pub data_maps: Vec<DataMap>,
    #[serde(default)]
    pub sequencing: Option<Value>,
    /// `adlnav:hideLMSUI` tokens (`previous`, `continue`, `exit`, `exit_all`, `abandon`,
    /// `abandon_all`, `suspend_all`).
    #[serde(default)]
    pub hide_lms_ui: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Launch {
    #[serde(default)]
    pub mastery_score: Option<f64>,
    #[serde(default)]
    pub data_from_lms: Option<String>,
    #[serde(default)]
    pub max_time_allowed: Option<String>,
    #[serde(default)]
    pub time_limit_action: Option<String>,
    #[serde(default)]
    pub completion_threshold: Option<Threshold>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Threshold {
    pub completed_by_measure: bool,
    pub min_progress_measure: f64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DataMap {
    pub target_id: String,
    pub read_shared_data: bool,
    pub write_shared_data: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Resource {
    pub identifier: String,
    #[serde(default)]
    pub scorm_type: Option<String>,
    #[serde(default)]
    pub href: Option<String>,
}

/// One launchable item in flow order (depth first).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Leaf {
    pub item_id: String,
    pub title: String,
    /// The URL below `/content/{package_id}/` (href with the item's parameters).
    pub href: String,
    pub sco: bool,
}

impl Model {
    pub(crate) fn parse(json: &str) -> Result<Model, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub(crate) fn version(&self) -> ScormVersion {
        if self.standard == "scorm12" { ScormVersion::Scorm12 } else { ScormVersion::Scorm2004 }
    }

    pub(crate) fn org(&self) -> Option<&Organization> {
        self.default_organization
            .as_deref()
            .and_then(|id| self.organizations.iter().find(|o| o.identifier == id))
            .or(self.organizations.first())
    }

    fn resource(&self, item: &Item) -> Option<&Resource> {
        let id = item.resource_ref.as_deref()?;
        self.resources.iter().find(|r| r.identifier == id)
    }

    /// Launchable items of the default organization, in flow order.
    pub(crate) fn leaves(&self) -> Vec<Leaf> {
        let mut out = Vec::new();
        if let Some(org) = self.org() {
            self.collect(&org.items, &mut out);
        }
        out
    }

    fn collect(&self, items: &[Item], out: &mut Vec<Leaf>) {
        for item in items {
            if let Some(resource) = self.resource(item)
                && let Some(href) = resource.href.as_deref()
                && !is_absolute(href)
            {
                let href = match item.parameters.as_deref() {
                    Some(p) => lms_package::append_parameters(href, p),
                    None => href.to_string(),
                };
                out.push(Leaf {
                    item_id: item.identifier.clone(),
                    title: item.title.clone(),
                    href,
                    sco: resource.scorm_type.as_deref() != Some("asset"),
                });
            }
            self.collect(&item.children, out);
        }
    }

    pub(crate) fn item(&self, id: &str) -> Option<&Item> {
        fn find<'a>(items: &'a [Item], id: &str) -> Option<&'a Item> {
            items.iter().find_map(|i| if i.identifier == id { Some(i) } else { find(&i.children, id) })
        }
        self.organizations.iter().find_map(|o| find(&o.items, id))
    }

    /// The table of contents: the item tree with titles and which entries launch.
    pub(crate) fn toc(&self) -> Value {
        fn node(model: &Model, item: &Item) -> Value {
            let launches = model.resource(item).and_then(|r| r.href.as_deref()).is_some_and(|h| !is_absolute(h));
            json!({
                "item_id": item.identifier,
                "title": item.title,
                "launches": launches,
                "visible": item.visible,
                "children": item.children.iter().map(|c| node(model, c)).collect::<Vec<_>>(),
            })
        }
        match self.org() {
            Some(org) => json!({ "title": org.title, "items": org.items.iter().map(|i| node(self, i)).collect::<Vec<_>>() }),
            None => json!({ "title": "", "items": [] }),
        }
    }

    /// The run-time configuration of `item` for a learner.
    pub(crate) fn attempt_config(&self, item: &Item, learner_id: &str, learner_name: &str) -> AttemptConfig {
        let version = self.version();
        let mut config = AttemptConfig::new(version, learner_id, learner_name);
        config.launch_data = item.launch.data_from_lms.clone();
        config.time_limit_action = item.launch.time_limit_action.as_deref().and_then(TimeLimitAction::parse);
        match version {
            ScormVersion::Scorm12 => {
                config.mastery_score = item.launch.mastery_score.filter(|m| (0.0..=100.0).contains(m));
                config.max_time_allowed =
                    item.launch.max_time_allowed.clone().filter(|t| lms_rte::types::parse_timespan_12(t).is_some());
            }
            ScormVersion::Scorm2004 => {
                config.completion_threshold = item
                    .launch
                    .completion_threshold
                    .as_ref()
                    .filter(|t| t.completed_by_measure && (0.0..=1.0).contains(&t.min_progress_measure))
                    .map(|t| t.min_progress_measure);
                let sequencing = item.sequencing.as_ref();
                let objectives = sequencing.and_then(|s| s.get("objectives")).filter(|o| !o.is_null());
                if let Some(objectives) = objectives {
                    let primary = &objectives["primary"];
                    if primary["satisfied_by_measure"].as_bool() == Some(true)
                        && let Some(m) = primary["min_normalized_measure"].as_f64()
                        && (-1.0..=1.0).contains(&m)
                    {
                        config.scaled_passing_score = Some(m);
                    }
                    let mut ids: Vec<String> = Vec::new();
                    for o in std::iter::once(primary).chain(objectives["others"].as_array().into_iter().flatten()) {
                        if let Some(id) = o["id"].as_str().filter(|id| !id.is_empty())
                            && !ids.iter().any(|known| known == id)
                        {
                            ids.push(id.to_string());
                        }
                    }
                    config.objective_ids = ids;
                }
                config.max_time_allowed = sequencing
                    .and_then(|s| s["limit_conditions"]["attempt_absolute_duration_limit"].as_str())
                    .filter(|t| lms_rte::types::parse_duration(t).is_some())
                    .map(str::to_string);
                config.shared_data = item
                    .data_maps
                    .iter()
                    .filter(|m| !m.target_id.is_empty())
                    .map(|m| SharedDataMap {
                        target_id: m.target_id.clone(),
                        readable: m.read_shared_data,
                        writable: m.write_shared_data,
                    })
                    .collect();
            }
        }
        config
    }
}

fn is_absolute(href: &str) -> bool {
    let lower = href.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
}

/// A navigation request of the player.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NavRequest {
    /// First launch, or back to where the learner left off.
    Resume,
    Continue,
    Previous,
    Choice(String),
}

/// Where navigation leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NavOutcome {
    Launch(String),
    /// Nothing to launch: `reason` says why (end of the course, start of the course, …).
    End(&'static str),
}

/// Simple flow navigation for SCORM 1.2: items in depth-first order, `Continue`/`Previous`
/// move along it, `Choice` jumps to any launchable item. SCORM 2004 packages are navigated by
/// the sequencer instead (`sequenced.rs`).
pub(crate) fn navigate(leaves: &[Leaf], current: Option<&str>, last: Option<&str>, request: &NavRequest) -> NavOutcome {
    let position = |id: &str| leaves.iter().position(|l| l.item_id == id);
    match request {
        NavRequest::Resume => match last.and_then(position).or(if leaves.is_empty() { None } else { Some(0) }) {
            Some(i) => NavOutcome::Launch(leaves[i].item_id.clone()),
            None => NavOutcome::End("the package has nothing to launch"),
        },
        NavRequest::Continue => match current.and_then(position) {
            Some(i) if i + 1 < leaves.len() => NavOutcome::Launch(leaves[i + 1].item_id.clone()),
            Some(_) => NavOutcome::End("this was the last item of the course"),
            None => navigate(leaves, None, last, &NavRequest::Resume),
        },
        NavRequest::Previous => match current.and_then(position) {
            Some(i) if i > 0 => NavOutcome::Launch(leaves[i - 1].item_id.clone()),
            Some(_) => NavOutcome::End("this is the first item of the course"),
            None => navigate(leaves, None, last, &NavRequest::Resume),
        },
        NavRequest::Choice(target) => match position(target) {
            Some(i) => NavOutcome::Launch(leaves[i].item_id.clone()),
            None => NavOutcome::End("no launchable item has that identifier"),
        },
    }
}

/// Per-SCO summary used by the report.
pub(crate) struct ScoSummary {
    pub item_id: String,
    pub summary: lms_rte::Summary,
    pub values: BTreeMap<String, String>,
}

/// `{completion, success, score, total_time, attempts, scos}` over the launchable items.
pub(crate) fn report(leaves: &[Leaf], scos: &[ScoSummary], attempt: i64) -> Value {
    let scorable: Vec<&Leaf> = leaves.iter().filter(|l| l.sco).collect();
    let by_item: BTreeMap<&str, &ScoSummary> = scos.iter().map(|s| (s.item_id.as_str(), s)).collect();
    let completion_of = |leaf: &&Leaf| by_item.get(leaf.item_id.as_str()).map(|s| s.summary.completion);
    let completion = if scorable.is_empty() || scos.is_empty() {
        "not_attempted"
    } else if scorable.iter().all(|l| completion_of(l) == Some(Completion::Completed)) {
        "completed"
    } else if scos.iter().any(|s| s.summary.completion != Completion::NotAttempted) {
        "incomplete"
    } else {
        "not_attempted"
    };
    let successes: Vec<Success> = scos.iter().map(|s| s.summary.success).collect();
    let success = if successes.contains(&Success::Failed) {
        "failed"
    } else if !scorable.is_empty()
        && scorable.iter().all(|l| by_item.get(l.item_id.as_str()).is_some_and(|s| s.summary.success == Success::Passed))
    {
        "passed"
    } else {
        "unknown"
    };
    let scaled: Vec<f64> = scos.iter().filter_map(|s| s.summary.score.as_ref().and_then(|sc| sc.scaled)).collect();
    let score = if scaled.is_empty() {
        Value::Null
    } else {
        json!({ "scaled": scaled.iter().sum::<f64>() / scaled.len() as f64 })
    };
    let total_cs: u64 = scos.iter().map(|s| s.summary.total_time_centiseconds).sum();
    let sco_list: Vec<Value> = scos
        .iter()
        .map(|s| {
            json!({
                "item_id": s.item_id,
                "completion": s.summary.completion,
                "success": s.summary.success,
                "score": s.summary.score,
                "total_time": s.summary.total_time,
                "suspended": s.summary.suspended,
                "attempt": s.summary.attempt_number,
                "cmi": s.values,
            })
        })
        .collect();
    json!({
        "completion": completion,
        "success": success,
        "score": score,
        "total_time": lms_rte::types::format_duration(total_cs),
        "attempts": attempt,
        "scos": sco_list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(ids: &[&str]) -> Vec<Leaf> {
        ids.iter().map(|id| Leaf { item_id: id.to_string(), title: id.to_string(), href: "a.html".into(), sco: true }).collect()
    }

    #[test]
    fn simple_flow() {
        let l = leaves(&["a", "b", "c"]);
        let launch = |s: &str| NavOutcome::Launch(s.to_string());
        assert_eq!(navigate(&l, None, None, &NavRequest::Resume), launch("a"));
        assert_eq!(navigate(&l, None, Some("b"), &NavRequest::Resume), launch("b"));
        assert_eq!(navigate(&l, Some("b"), None, &NavRequest::Continue), launch("c"));
        assert_eq!(navigate(&l, Some("b"), None, &NavRequest::Previous), launch("a"));
        assert!(matches!(navigate(&l, Some("c"), None, &NavRequest::Continue), NavOutcome::End(_)));
        assert!(matches!(navigate(&l, Some("a"), None, &NavRequest::Previous), NavOutcome::End(_)));
        assert_eq!(navigate(&l, Some("a"), None, &NavRequest::Choice("c".into())), launch("c"));
        assert!(matches!(navigate(&l, Some("a"), None, &NavRequest::Choice("zz".into())), NavOutcome::End(_)));
        assert!(matches!(navigate(&[], None, None, &NavRequest::Resume), NavOutcome::End(_)));
    }
}
