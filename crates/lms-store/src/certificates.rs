//! Certificates: issuance, verification, export (issue 7): storage.
