//! DataZone relational filter semantics, as the emulator assumes them (docs/datazone-semantics.md §5,
//! [inferred]): an object is imported when its name matches at least one INCLUDE expression and
//! no EXCLUDE expression; `*` matches any run of characters and everything else is literal;
//! matching is case-sensitive; the order of expressions does not matter.

use crate::state::FilterExpression;

/// Whether `name` matches the glob `pattern` (`*` only).
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

pub fn selected(expressions: &[FilterExpression], name: &str) -> bool {
    let included = expressions.iter().any(|e| e.include && glob(&e.expression, name));
    let excluded = expressions.iter().any(|e| !e.include && glob(&e.expression, name));
    included && !excluded
}

/// INCLUDE expressions without a wildcard name one object exactly; when it is missing, the run
/// reports it as failed [inferred].
pub fn exact_includes(expressions: &[FilterExpression]) -> impl Iterator<Item = &str> {
    expressions.iter().filter(|e| e.include && !e.expression.contains('*')).map(|e| e.expression.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(include: bool, expression: &str) -> FilterExpression {
        FilterExpression { include, expression: expression.into() }
    }

    #[test]
    fn glob_table() {
        let cases = [
            ("*", "orders", true),
            ("orders", "orders", true),
            ("orders", "orders2", false),
            ("*corporate", "sales_corporate", true),
            ("*corporate", "corporate_sales", false),
            ("v_*", "v_orders", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("Orders", "orders", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(glob(pattern, name), want, "{pattern} vs {name}");
        }
    }

    #[test]
    fn include_and_exclude() {
        let f = [expr(true, "*"), expr(false, "tmp_*")];
        assert!(selected(&f, "orders"));
        assert!(!selected(&f, "tmp_orders"));
        assert!(!selected(&[expr(false, "x")], "orders"), "no INCLUDE selects nothing");
        assert_eq!(exact_includes(&[expr(true, "a"), expr(true, "b*"), expr(false, "c")]).collect::<Vec<_>>(), ["a"]);
    }
}
