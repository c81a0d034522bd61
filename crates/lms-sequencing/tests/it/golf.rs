//! The golf sequencing examples, once `lms_package` can parse manifests.
