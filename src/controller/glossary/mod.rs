//! A `DataZoneGlossary`: the glossary and its terms, resolved through its connection.

pub mod reconcile;
