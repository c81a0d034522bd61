//! Identifier newtypes. Numeric ids are assigned by the store (the pure rules take them
//! as input and never invent them); people and org units use the city's own codes.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);
        impl $name {
            /// Wraps a code.
            pub fn new(code: impl Into<String>) -> Self {
                Self(code.into())
            }
            /// The code as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<&str> for $name {
            fn from(code: &str) -> Self {
                Self(code.to_owned())
            }
        }
    };
}

numeric_id!(/// A catalogue course.
    CourseId);
numeric_id!(/// A scheduled offering (one run) of a course.
    OfferingId);
numeric_id!(/// One session (meeting) of an offering.
    SessionId);
numeric_id!(/// A room with a capacity.
    RoomId);
numeric_id!(/// A booking of one person on one offering.
    BookingId);
numeric_id!(/// A learning path.
    LearningPathId);
numeric_id!(/// A mandatory-training requirement.
    RequirementId);
text_id!(/// A person, by personnel number. Trainers, learners, managers and admins are all people.
    PersonId);
text_id!(/// An org unit (department, division, team) of the city.
    OrgUnitId);
text_id!(/// A role a person holds (e.g. `first-aider`), used for mandatory-training assignment.
    RoleId);
text_id!(/// An e-learning package (SCORM/xAPI) in the package store.
    PackageId);
text_id!(/// A step of a learning path, unique within the path.
    StepId);
