//! Values marked as placeholders: a comment `# PLACEHOLDER:` after a value
//! (as `queuesim import` writes where the exports give no figure) is a
//! warning of `validate`, one per marked line, until the user replaces the
//! value and deletes the mark.

use crate::import::PLACEHOLDER;

/// A warning for every line of `text` whose comment starts with the mark.
pub fn warnings(text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (at, reason) = line.match_indices('#').find_map(|(at, _)| {
                let rest = line[at + 1..].trim_start().strip_prefix(PLACEHOLDER)?;
                Some((at, rest.strip_prefix(':')?))
            })?;
            let code = &line[..at];
            let reason = reason.trim();
            let key = code.split('=').next().unwrap_or("").trim();
            Some(format!(
                "line {}: `{key}` is a placeholder to fill in{}; replace the value and delete the `# {PLACEHOLDER}` mark",
                i + 1,
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({reason})")
                }
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_lines_are_listed_and_others_are_not() {
        let text = "rate = \"1/s\"   # PLACEHOLDER: no publish rate\nttl = \"2s\"   # message-ttl\n# PLACEHOLDER:\n# PLACEHOLDER values are ...\n";
        let found = warnings(text);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0],
            "line 1: `rate` is a placeholder to fill in (no publish rate); replace the value and delete the `# PLACEHOLDER` mark"
        );
        assert!(found[1].starts_with("line 3: ``"), "{}", found[1]);
        assert!(warnings("rate = 5 # measured, not a placeholder\n").is_empty());
        let keyed = warnings("routes = [{ to = \"a\", key = \"#\" }] # PLACEHOLDER: check\n");
        assert_eq!(keyed.len(), 1, "a `#` in a string before the mark");
    }
}
