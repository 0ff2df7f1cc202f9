//! Queueing theory (placeholder, being written).
