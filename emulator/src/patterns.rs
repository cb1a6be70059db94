//! Model patterns the fixture and the handlers both check, and the matcher: a leaf module, so the
//! fixture's checks do not depend on the handlers.

use std::collections::HashMap;

/// The model's `FormTypeName`, read anchored and without the look-ahead (as the operator's CRD
/// reads it): an optional `amazon.datazone.` and a letter first, or `_` and a letter or digit.
pub const FORM_TYPE_NAME: &str =
    r"^(amazon\.datazone\.)?[A-Za-z][A-Za-z0-9_]*$|^_[A-Za-z0-9_]*[A-Za-z0-9][A-Za-z0-9_]*$";
/// The model's `FormTypeIdentifier` (`(?!\.)[\w\.]*\w`), read the same way.
pub const FORM_TYPE_IDENTIFIER: &str = r"^[A-Za-z0-9_]([A-Za-z0-9_.]*[A-Za-z0-9_])?$";

/// Whether `s` matches a model pattern (searched, as Smithy patterns are, unless anchored).
pub fn matches(pattern: &'static str, s: &str) -> bool {
    use std::sync::{LazyLock, Mutex, PoisonError};
    // Compiled once per pattern: CreateDataSource is on the benchmark's hot path.
    static COMPILED: LazyLock<Mutex<HashMap<&'static str, Option<regex::Regex>>>> = LazyLock::new(Default::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
    compiled.entry(pattern).or_insert_with(|| regex::Regex::new(pattern).ok()).as_ref().is_some_and(|re| re.is_match(s))
}
