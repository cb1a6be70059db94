//! DataZone's status words, parsed once at the SDK edge (and from what status stored) into
//! enums, so the decision logic matches variants, never strings. An unknown word is kept as
//! `Other` with its text: DataZone adds statuses, and an unknown one must show, not vanish.
//! The meaning of each word: `docs/datazone-semantics.md` §§ 3, 4, 6.

use std::fmt;

/// Defines an enum of known status words plus `Other(String)`, with `parse` and `as_str`.
macro_rules! status_words {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A word this operator does not know.
            Other(String),
        }

        impl $name {
            pub fn parse(word: &str) -> Self {
                match word {
                    $($word => Self::$variant,)+
                    other => Self::Other(other.to_string()),
                }
            }

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $word,)+
                    Self::Other(word) => word,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_words! {
    /// An environment's status (`EnvironmentStatus` in the model).
    EnvironmentStatus {
        Active => "ACTIVE",
        Creating => "CREATING",
        Updating => "UPDATING",
        Deleting => "DELETING",
        CreateFailed => "CREATE_FAILED",
        UpdateFailed => "UPDATE_FAILED",
        DeleteFailed => "DELETE_FAILED",
        Deleted => "DELETED",
        Inaccessible => "INACCESSIBLE",
        Suspended => "SUSPENDED",
        Disabled => "DISABLED",
        ValidationFailed => "VALIDATION_FAILED",
        Expired => "EXPIRED",
    }
}

impl EnvironmentStatus {
    /// On its way to ACTIVE: wait for it.
    pub fn is_settling(&self) -> bool {
        matches!(self, Self::Creating | Self::Updating)
    }
}

status_words! {
    /// A data source's status (`DataSourceStatus`).
    DataSourceStatus {
        Creating => "CREATING",
        FailedCreation => "FAILED_CREATION",
        Ready => "READY",
        Updating => "UPDATING",
        FailedUpdate => "FAILED_UPDATE",
        Running => "RUNNING",
        Deleting => "DELETING",
        FailedDeletion => "FAILED_DELETION",
    }
}

impl DataSourceStatus {
    /// A failed create, update or delete: the data source needs a person.
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::FailedCreation | Self::FailedUpdate | Self::FailedDeletion)
    }
}

status_words! {
    /// A data source run's status (`DataSourceRunStatus`).
    RunStatus {
        Requested => "REQUESTED",
        Running => "RUNNING",
        Failed => "FAILED",
        PartiallySucceeded => "PARTIALLY_SUCCEEDED",
        Success => "SUCCESS",
    }
}

impl RunStatus {
    /// Still going: a second run would be refused (docs/datazone-semantics.md §6).
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Requested | Self::Running)
    }

    /// Over, one way or another.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Success | Self::PartiallySucceeded | Self::Failed)
    }
}

/// What one run activity (one table or view) came to, by the way DataZone's run statistics
/// count it (docs/datazone-semantics.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetOutcome {
    Added,
    Updated,
    Unchanged,
    Skipped,
    Failed,
}

impl AssetOutcome {
    /// Reads an activity's `dataAssetStatus` (also as stored in `status.assets[].status`).
    pub fn of(word: &str) -> Self {
        match word {
            "SUCCEEDED_CREATED" => Self::Added,
            "SUCCEEDED_UPDATED" => Self::Updated,
            "UNCHANGED" => Self::Unchanged,
            s if s.starts_with("SKIPPED") => Self::Skipped,
            // FAILED, PUBLISHING_FAILED and anything unknown.
            _ => Self::Failed,
        }
    }

    /// In the catalog after the run.
    pub fn is_imported(self) -> bool {
        matches!(self, Self::Added | Self::Updated | Self::Unchanged)
    }
}

/// A Redshift object's type, as the Data API's ListTables reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Table,
    View,
}

impl ObjectKind {
    /// `None` for the types the operator does not publish (system tables and the like).
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "TABLE" => Some(Self::Table),
            "VIEW" => Some(Self::View),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_ones_are_kept() {
        for word in ["ACTIVE", "CREATING", "CREATE_FAILED", "EXPIRED"] {
            assert_eq!(EnvironmentStatus::parse(word).as_str(), word);
        }
        assert_eq!(EnvironmentStatus::parse("HIBERNATING"), EnvironmentStatus::Other("HIBERNATING".into()));
        assert_eq!(DataSourceStatus::parse("FAILED_UPDATE"), DataSourceStatus::FailedUpdate);
        assert!(DataSourceStatus::FailedDeletion.is_failed());
        assert!(!DataSourceStatus::Running.is_failed());
        assert_eq!(RunStatus::parse("PARTIALLY_SUCCEEDED").to_string(), "PARTIALLY_SUCCEEDED");
    }

    #[test]
    fn run_statuses_are_active_or_terminal() {
        let cases = [
            ("REQUESTED", true, false),
            ("RUNNING", true, false),
            ("SUCCESS", false, true),
            ("PARTIALLY_SUCCEEDED", false, true),
            ("FAILED", false, true),
            ("PAUSED", false, false),
        ];
        for (word, active, terminal) in cases {
            let s = RunStatus::parse(word);
            assert_eq!((s.is_active(), s.is_terminal()), (active, terminal), "{word}");
        }
    }

    #[test]
    fn activity_outcomes() {
        let cases = [
            ("SUCCEEDED_CREATED", AssetOutcome::Added, true),
            ("SUCCEEDED_UPDATED", AssetOutcome::Updated, true),
            ("UNCHANGED", AssetOutcome::Unchanged, true),
            ("SKIPPED_ALREADY_IMPORTED", AssetOutcome::Skipped, false),
            ("SKIPPED_NO_ACCESS", AssetOutcome::Skipped, false),
            ("FAILED", AssetOutcome::Failed, false),
            ("PUBLISHING_FAILED", AssetOutcome::Failed, false),
        ];
        for (word, outcome, imported) in cases {
            assert_eq!(AssetOutcome::of(word), outcome, "{word}");
            assert_eq!(outcome.is_imported(), imported, "{word}");
        }
        assert_eq!(ObjectKind::parse("VIEW"), Some(ObjectKind::View));
        assert_eq!(ObjectKind::parse("SYSTEM TABLE"), None);
    }
}
