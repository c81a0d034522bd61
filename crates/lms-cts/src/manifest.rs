//! The little the run-time driver needs from a CTS package's `imsmanifest.xml`: each item's
//! `act=` parameter and the run-time launch values (`adlcp:dataFromLMS`,
//! `adlcp:timeLimitAction`, `adlcp:completionThreshold`, `adlcp:data` maps, objective ids, the
//! primary objective's `minNormalizedMeasure`, `attemptAbsoluteDurationLimit`) and the
//! organization's `adlcp:sharedDataGlobalToSystem`.
//!
//! (The full manifest model lives in `lms-package`; this reader only serves the suite.)

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use lms_rte::{AttemptConfig, ScormVersion, SharedDataMap, TimeLimitAction};

/// One `<item>` with the values that configure its SCO's run-time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemLaunch {
    pub identifier: String,
    /// The `act=` value of `parameters` (`1`, `2a`, …): how the test cases name activities.
    pub act: Option<String>,
    pub data_from_lms: Option<String>,
    pub time_limit_action: Option<String>,
    pub completion_threshold: Option<f64>,
    pub scaled_passing_score: Option<f64>,
    pub attempt_duration_limit: Option<String>,
    pub objective_ids: Vec<String>,
    pub shared_data: Vec<SharedDataMap>,
}

impl ItemLaunch {
    /// The attempt configuration for this item's SCO.
    pub fn attempt_config(&self, learner_id: &str, learner_name: &str) -> AttemptConfig {
        let mut config = AttemptConfig::new(ScormVersion::Scorm2004, learner_id, learner_name);
        config.launch_data = self.data_from_lms.clone();
        config.time_limit_action = self
            .time_limit_action
            .as_deref()
            .and_then(TimeLimitAction::parse);
        config.completion_threshold = self.completion_threshold;
        config.scaled_passing_score = self.scaled_passing_score;
        config.max_time_allowed = self.attempt_duration_limit.clone();
        config.objective_ids = self.objective_ids.clone();
        config.shared_data = self.shared_data.clone();
        config
    }
}

/// The launch view of a manifest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManifestLaunch {
    pub items: Vec<ItemLaunch>,
    /// `adlcp:sharedDataGlobalToSystem` of the default organization (default true).
    pub shared_data_global: bool,
    /// The organization's `imsss:controlMode` `flow` (IMS SS default false).
    pub flow: bool,
    /// The organization's `imsss:controlMode` `choice` (IMS SS default true).
    pub choice: bool,
}

impl ManifestLaunch {
    pub fn item_for_act(&self, act: &str) -> Option<&ItemLaunch> {
        self.items.iter().find(|i| i.act.as_deref() == Some(act))
    }
}

fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_owned())
        })
}

fn act_of(parameters: &str) -> Option<String> {
    let query = parameters.trim_start_matches('?');
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("act="))
        .map(str::to_owned)
}

/// Reads the launch view from manifest text. Errors name the XML problem.
pub fn read(xml: &str) -> Result<ManifestLaunch, String> {
    let mut reader = Reader::from_str(xml);
    let mut manifest = ManifestLaunch {
        items: Vec::new(),
        shared_data_global: true,
        flow: false,
        choice: true,
    };
    let mut stack: Vec<usize> = Vec::new(); // indices of open items
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut primary_by_measure = false;
    let mut organizations_seen = 0;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("XML error at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_owned();
                text.clear();
                match name.as_str() {
                    "organization" => {
                        organizations_seen += 1;
                        if organizations_seen == 1 {
                            manifest.shared_data_global =
                                attr(e, "sharedDataGlobalToSystem").is_none_or(|v| v != "false");
                        }
                    }
                    "item" => {
                        let identifier = attr(e, "identifier").unwrap_or_default();
                        let act = attr(e, "parameters").as_deref().and_then(act_of);
                        manifest.items.push(ItemLaunch {
                            identifier,
                            act,
                            ..ItemLaunch::default()
                        });
                        if !is_empty {
                            stack.push(manifest.items.len() - 1);
                        }
                    }
                    "controlMode" if stack.is_empty() && organizations_seen == 1 => {
                        manifest.flow = attr(e, "flow").is_some_and(|v| v == "true");
                        manifest.choice = attr(e, "choice").is_none_or(|v| v != "false");
                    }
                    _ => {}
                }
                if let Some(&current) = stack.last() {
                    let item = &mut manifest.items[current];
                    match name.as_str() {
                        "completionThreshold" => {
                            let by_measure =
                                attr(e, "completedByMeasure").is_some_and(|v| v == "true");
                            if by_measure {
                                item.completion_threshold = Some(
                                    attr(e, "minProgressMeasure")
                                        .and_then(|v| v.parse().ok())
                                        .unwrap_or(1.0),
                                );
                            }
                        }
                        "map" => {
                            if let Some(target) = attr(e, "targetID") {
                                let mut map = SharedDataMap::new(target);
                                map.readable =
                                    attr(e, "readSharedData").is_none_or(|v| v != "false");
                                map.writable =
                                    attr(e, "writeSharedData").is_none_or(|v| v != "false");
                                item.shared_data.push(map);
                            }
                        }
                        "primaryObjective" | "objective" => {
                            if let Some(id) = attr(e, "objectiveID") {
                                item.objective_ids.push(id);
                            }
                            if name == "primaryObjective" {
                                primary_by_measure =
                                    attr(e, "satisfiedByMeasure").is_some_and(|v| v == "true");
                                if primary_by_measure {
                                    item.scaled_passing_score = Some(1.0);
                                }
                            }
                        }
                        "limitConditions" => {
                            if let Some(limit) = attr(e, "attemptAbsoluteDurationLimit") {
                                item.attempt_duration_limit = Some(limit);
                            }
                        }
                        _ => {}
                    }
                }
                if !is_empty {
                    path.push(name);
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(&t.into_inner()),
            Event::GeneralRef(r) => {
                let name: &str = r.as_ref();
                text.push_str(match name {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_owned();
                path.pop();
                if name == "item" {
                    stack.pop();
                } else if let Some(&current) = stack.last() {
                    let item = &mut manifest.items[current];
                    let value = text.trim().to_owned();
                    match name.as_str() {
                        "dataFromLMS" => item.data_from_lms = Some(text.clone()),
                        "timeLimitAction" => item.time_limit_action = Some(value),
                        "minNormalizedMeasure"
                            if primary_by_measure
                                && path.last().is_some_and(|p| p == "primaryObjective") =>
                        {
                            item.scaled_passing_score = value.parse().ok();
                        }
                        "primaryObjective" => primary_by_measure = false,
                        _ => {}
                    }
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_launch_values() {
        let xml = r#"<manifest xmlns:adlcp="a" xmlns:imsss="s"><organizations><organization identifier="O" adlcp:sharedDataGlobalToSystem="false">
          <item identifier="activity_1" identifierref="R" parameters="?tc=X&amp;act=2a">
            <adlcp:dataFromLMS>Launch &amp; data</adlcp:dataFromLMS>
            <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.8" />
            <adlcp:data><adlcp:map targetID="t1" writeSharedData="false"/></adlcp:data>
            <imsss:sequencing><imsss:objectives>
              <imsss:primaryObjective objectiveID="P" satisfiedByMeasure="true"><imsss:minNormalizedMeasure>-0.5</imsss:minNormalizedMeasure></imsss:primaryObjective>
              <imsss:objective objectiveID="O2"><imsss:mapInfo targetObjectiveID="G"/></imsss:objective>
            </imsss:objectives></imsss:sequencing>
          </item></organization></organizations></manifest>"#;
        let m = read(xml).unwrap();
        assert!(!m.shared_data_global);
        let item = m.item_for_act("2a").unwrap();
        assert_eq!(item.data_from_lms.as_deref(), Some("Launch & data"));
        assert_eq!(item.completion_threshold, Some(0.8));
        assert_eq!(item.scaled_passing_score, Some(-0.5));
        assert_eq!(item.objective_ids, vec!["P".to_owned(), "O2".to_owned()]);
        assert_eq!(item.shared_data.len(), 1);
        assert!(!item.shared_data[0].writable && item.shared_data[0].readable);
    }
}
