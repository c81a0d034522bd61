//! API error codes of both SCORM versions and their `GetErrorString` texts, plus the crate's
//! own error type for restoring saved state.

/// SCORM 2004 4th edition error codes (RTE table 3.1.7.6a).
pub mod scorm2004 {
    pub const NO_ERROR: u16 = 0;
    pub const GENERAL_EXCEPTION: u16 = 101;
    pub const GENERAL_INITIALIZATION_FAILURE: u16 = 102;
    pub const ALREADY_INITIALIZED: u16 = 103;
    pub const CONTENT_INSTANCE_TERMINATED: u16 = 104;
    pub const GENERAL_TERMINATION_FAILURE: u16 = 111;
    pub const TERMINATION_BEFORE_INITIALIZATION: u16 = 112;
    pub const TERMINATION_AFTER_TERMINATION: u16 = 113;
    pub const RETRIEVE_DATA_BEFORE_INITIALIZATION: u16 = 122;
    pub const RETRIEVE_DATA_AFTER_TERMINATION: u16 = 123;
    pub const STORE_DATA_BEFORE_INITIALIZATION: u16 = 132;
    pub const STORE_DATA_AFTER_TERMINATION: u16 = 133;
    pub const COMMIT_BEFORE_INITIALIZATION: u16 = 142;
    pub const COMMIT_AFTER_TERMINATION: u16 = 143;
    pub const GENERAL_ARGUMENT_ERROR: u16 = 201;
    pub const GENERAL_GET_FAILURE: u16 = 301;
    pub const GENERAL_SET_FAILURE: u16 = 351;
    pub const GENERAL_COMMIT_FAILURE: u16 = 391;
    pub const UNDEFINED_ELEMENT: u16 = 401;
    pub const UNIMPLEMENTED_ELEMENT: u16 = 402;
    pub const VALUE_NOT_INITIALIZED: u16 = 403;
    pub const READ_ONLY: u16 = 404;
    pub const WRITE_ONLY: u16 = 405;
    pub const TYPE_MISMATCH: u16 = 406;
    pub const OUT_OF_RANGE: u16 = 407;
    pub const DEPENDENCY_NOT_ESTABLISHED: u16 = 408;

    /// The `GetErrorString` text of a code; `None` for codes the standard does not define.
    pub fn message(code: u16) -> Option<&'static str> {
        Some(match code {
            0 => "No Error",
            101 => "General Exception",
            102 => "General Initialization Failure",
            103 => "Already Initialized",
            104 => "Content Instance Terminated",
            111 => "General Termination Failure",
            112 => "Termination Before Initialization",
            113 => "Termination After Termination",
            122 => "Retrieve Data Before Initialization",
            123 => "Retrieve Data After Termination",
            132 => "Store Data Before Initialization",
            133 => "Store Data After Termination",
            142 => "Commit Before Initialization",
            143 => "Commit After Termination",
            201 => "General Argument Error",
            301 => "General Get Failure",
            351 => "General Set Failure",
            391 => "General Commit Failure",
            401 => "Undefined Data Model Element",
            402 => "Unimplemented Data Model Element",
            403 => "Data Model Element Value Not Initialized",
            404 => "Data Model Element Is Read Only",
            405 => "Data Model Element Is Write Only",
            406 => "Data Model Element Type Mismatch",
            407 => "Data Model Element Value Out Of Range",
            408 => "Data Model Dependency Not Established",
            _ => return None,
        })
    }
}

/// SCORM 1.2 error codes (RTE 3.3.2.1).
pub mod scorm12 {
    pub const NO_ERROR: u16 = 0;
    pub const GENERAL_EXCEPTION: u16 = 101;
    pub const INVALID_ARGUMENT: u16 = 201;
    pub const ELEMENT_CANNOT_HAVE_CHILDREN: u16 = 202;
    pub const ELEMENT_NOT_AN_ARRAY: u16 = 203;
    pub const NOT_INITIALIZED: u16 = 301;
    pub const NOT_IMPLEMENTED: u16 = 401;
    pub const INVALID_SET_VALUE: u16 = 402;
    pub const READ_ONLY: u16 = 403;
    pub const WRITE_ONLY: u16 = 404;
    pub const INCORRECT_DATA_TYPE: u16 = 405;

    /// The `LMSGetErrorString` text of a code; `None` for codes the standard does not define.
    pub fn message(code: u16) -> Option<&'static str> {
        Some(match code {
            0 => "No error",
            101 => "General exception",
            201 => "Invalid argument error",
            202 => "Element cannot have children",
            203 => "Element not an array. Cannot have count",
            301 => "Not initialized",
            401 => "Not implemented error",
            402 => "Invalid set value, element is a keyword",
            403 => "Element is read only",
            404 => "Element is write only",
            405 => "Incorrect Data Type",
            _ => return None,
        })
    }
}

/// Failures of the crate's non-API operations (restoring saved state, bad configuration).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("saved attempt state is not valid JSON for this version of lms-rte: {0}")]
    BadState(#[from] serde_json::Error),
    #[error("attempt configuration: {field} has an invalid value {value:?}")]
    BadConfig { field: &'static str, value: String },
}
