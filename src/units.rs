//! Quantities with units in scenario files (placeholder, being written).
