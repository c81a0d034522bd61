//! xAPI Learning Record Store (issue 4): storage.
