//! Scenario files (placeholder, being written).
