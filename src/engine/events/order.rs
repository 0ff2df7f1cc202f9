//! A self-check of the engine: FIFO queues serve, and single-consumer
//! FIFO queues (Kafka partitions among them) finish, in arrival order.

/// The latest arrival time seen so far per priority class, to count
/// messages taken out of order.
#[derive(Debug, Clone)]
pub(super) struct OrderCheck {
    /// Class 0's, kept inline: most runs have one class, and the check
    /// runs twice per message per queue.
    first_entered_s: f64,
    /// Classes 1 and on.
    rest_entered_s: Vec<f64>,
}

impl OrderCheck {
    /// A check for `classes` priority classes (FIFO within each).
    pub(super) fn new(classes: usize) -> Self {
        Self {
            first_entered_s: f64::NEG_INFINITY,
            rest_entered_s: vec![f64::NEG_INFINITY; classes.saturating_sub(1)],
        }
    }

    /// Notes a message of `class` that arrived at `entered_s`; returns
    /// whether one of its class that arrived later went before it.
    #[inline]
    pub(super) fn out_of_order(&mut self, class: usize, entered_s: f64) -> bool {
        let latest = match class {
            0 => &mut self.first_entered_s,
            _ => &mut self.rest_entered_s[class - 1],
        };
        if entered_s < *latest {
            return true;
        }
        *latest = entered_s;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_message_overtaken_within_its_class_only() {
        let mut check = OrderCheck::new(2);
        assert!(!check.out_of_order(0, 1.0));
        assert!(!check.out_of_order(1, 0.5));
        assert!(!check.out_of_order(0, 1.0));
        assert!(check.out_of_order(0, 0.9));
        assert!(!check.out_of_order(1, 0.7));
    }
}
