//! Patterns and limits from the DataZone, STS and Redshift models, anchored, shared by the CRD
//! schema (enforced by the API server at admission) and the CLI (checked at parse time), so
//! both reject the same input with the same rule.
//!
//! Sources: botocore `datazone/2018-05-10/service-2.json` (shapes named in each comment),
//! `sts/2011-06-15`, and the Redshift identifier rules.

/// `RoleArn` (DataZone) — an IAM role ARN in any partition.
pub const IAM_ROLE_ARN: &str = r"^arn:aws[^:]*:iam::\d{12}:role(/[a-zA-Z0-9+=,.@_-]+)*/[a-zA-Z0-9+=,.@_-]+$";

/// `RedshiftCredentialConfigurationSecretManagerArnString` (DataZone), max 256.
pub const SECRETS_MANAGER_ARN: &str =
    r"^arn:aws[^:]*:secretsmanager:[a-z]{2}-?(iso|gov)?-{1}[a-z]*-{1}[0-9]:\d{12}:secret:.+$";
pub const SECRETS_MANAGER_ARN_MAX: u32 = 256;

/// A Secrets Manager ARN where `*` stands for any characters (a tenancy rule's pattern).
pub const SECRET_ARN_PATTERN: &str = r"^arn:(aws[^:]*|\*):secretsmanager:[^:]+:[0-9*]+:secret:.+$";

/// `RegionName` (DataZone), 4..=16.
pub const REGION: &str = r"^[a-z]{2}-?(iso|gov)?-{1}[a-z]*-{1}[0-9]$";

/// `DomainId` (DataZone).
pub const DOMAIN_ID: &str = r"^dzd[-_][a-zA-Z0-9_-]{1,36}$";

/// `ProjectName` (DataZone) 1..=64 `[\w -]+`; a `ProjectId` (`[a-zA-Z0-9_-]{1,36}`) also matches.
pub const PROJECT_NAME_OR_ID: &str = r"^[A-Za-z0-9_ -]+$";
pub const PROJECT_NAME_MAX: u32 = 64;

/// A project as an access rule or a connection's `autoApproval` names it: its name or ID, or `*`
/// for any project.
pub const PROJECT_NAME_ID_OR_ANY: &str = r"^([A-Za-z0-9_ -]+|\*)$";

/// `decisionComment` of Accept/RejectSubscriptionRequest is 1..=4096 (docs/datazone-semantics.md,
/// subscriptions); a rule's reason may take 2,048 of it, the rest says which rule of which
/// object decided. Rules per policy: the operator's own bound.
pub const ACCESS_REASON_MAX: u32 = 2048;
pub const ACCESS_RULES_MAX: u32 = 50;

/// STS `externalIdType`, 2..=1224.
pub const EXTERNAL_ID: &str = r"^[A-Za-z0-9_+=,.@:/-]+$";

/// Redshift cluster identifier as DataZone takes it (`RedshiftClusterStorageClusterNameString`,
/// 1..=63): lowercase letters, digits and hyphens, starting with a letter or digit.
pub const CLUSTER_NAME: &str = r"^[0-9a-z][a-z0-9-]*$";
pub const CLUSTER_NAME_MAX: u32 = 63;

/// `RedshiftServerlessStorageWorkgroupNameString` (DataZone), 3..=64.
pub const WORKGROUP_NAME: &str = r"^[a-z0-9-]+$";

/// Table and view names become exact INCLUDE filter expressions, where `*` is the wildcard:
/// a name containing `*` cannot be expressed exactly, so it is refused.
pub const OBJECT_NAME: &str = r"^[^*]+$";
/// Redshift identifiers are at most 127 bytes.
pub const OBJECT_NAME_MAX: u32 = 127;

/// `RelationalFilterConfigurationDatabaseNameString` / `...SchemaNameString` (DataZone), 1..=128.
pub const DATABASE_OR_SCHEMA_MAX: u32 = 128;

/// `CronString` (DataZone), as the model has it (unanchored by design), max 256.
pub const CRON: &str = r".*cron\((\b[0-5]?[0-9]\b) (\b2[0-3]\b|\b[0-1]?[0-9]\b) ([-?*,/\dLW]){1,83} ([-*,/\d]|[a-zA-Z]{3}){1,23} ([-?#*,/\dL]|[a-zA-Z]{3}){1,13} ([^\)]+)\).*";

/// A DNS-1123 label (a name inside a manifest), max 63.
pub const DNS_LABEL: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// A Kubernetes object name (DNS-1123 subdomain), max 253.
pub const DNS_SUBDOMAIN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// Whether `s` matches one of the patterns above (compiled once per pattern).
pub fn is_match(pattern: &'static str, s: &str) -> bool {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex, PoisonError};
    static COMPILED: LazyLock<Mutex<HashMap<&'static str, regex::Regex>>> = LazyLock::new(Default::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
    if !compiled.contains_key(pattern) {
        match regex::Regex::new(pattern) {
            Ok(re) => {
                compiled.insert(pattern, re);
            }
            // The patterns are constants of this module, covered by tests; an invalid one
            // matches nothing rather than panicking at run time.
            Err(_) => return false,
        }
    }
    compiled.get(pattern).is_some_and(|re| re.is_match(s))
}

/// A DataZone resource ID, such as a data source's [model: GetDataSource `identifier`].
pub const RESOURCE_ID: &str = r"^[a-zA-Z0-9_-]{1,36}$";

/// A data source name's length [model: CreateDataSource `name`, 1–256].
pub const DATA_SOURCE_NAME_MAX: u32 = 256;

/// `FormName` (DataZone), 1..=128: `(?![0-9_])\w+$|^_\w*[a-zA-Z0-9]\w*` without the look-ahead
/// the API server's regular expressions lack: a letter first, or an underscore and then at least
/// one letter or digit.
pub const FORM_NAME: &str = r"^([A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_]*[A-Za-z0-9][A-Za-z0-9_]*)$";
pub const FORM_NAME_MAX: u32 = 128;

/// `FormTypeIdentifier` (DataZone), 1..=385: `(?!\.)[\w\.]*\w`, a form type's name (such as
/// `amazon.datazone.SubscriptionTermsFormType` or a custom type) or ID.
pub const FORM_TYPE_IDENTIFIER: &str = r"^[A-Za-z0-9_]([A-Za-z0-9_.]*[A-Za-z0-9_])?$";
pub const FORM_TYPE_IDENTIFIER_MAX: u32 = 385;

/// `RevisionInput` (DataZone), 1..=64.
pub const REVISION: &str = r"^[a-zA-Z0-9_-]+$";

/// `FormInputContentString` (DataZone): a form's content, as JSON, is at most 300,000 characters.
pub const FORM_CONTENT_MAX: usize = 300_000;

/// `Description` of an asset (DataZone CreateAssetRevision), 0..=2048.
pub const ASSET_DESCRIPTION_MAX: u32 = 2048;

/// `GlossaryTerms` (DataZone CreateAssetRevision): 1..=20 per asset; `GlossaryTermName` 1..=256.
pub const GLOSSARY_TERMS_MAX: u32 = 20;
pub const GLOSSARY_TERM_NAME_MAX: u32 = 256;

/// `FormOutputList` (DataZone): an asset carries at most 10 forms, its technical form
/// (RedshiftTableForm / RedshiftViewForm) among them [inferred], so 9 of the data product's.
pub const FORMS_MAX: u32 = 9;

/// `DataProductName` 1..=64; `DataProductDescription` 1..=4096, of which the spec's description
/// may take 3,800: the operator adds a line saying whose data product it is; `formsInput` 0..=10
/// (a data product has no technical form of its own); an item's `glossaryTerms` 1..=2 (DataZone
/// CreateDataProduct, docs/datazone-semantics.md §14).
pub const DATA_PRODUCT_NAME_MAX: u32 = 64;
pub const DATA_PRODUCT_DESCRIPTION_MAX: u32 = 3800;
pub const DATA_PRODUCT_FORMS_MAX: u32 = 10;
pub const DATA_PRODUCT_ITEM_TERMS_MAX: u32 = 2;
/// The operator's own bounds (DataZone states no limit on items per data product): declared
/// groups per resource and items per group, small enough for the admission rule that checks each
/// item's schema against `spec.schemas` to stay inside the API server's CEL cost budget.
pub const DATA_PRODUCT_GROUPS_MAX: u32 = 20;
pub const DATA_PRODUCT_ITEMS_MAX: u32 = 50;

/// `GlossaryName` (DataZone), 1..=256; `GlossaryDescription` 0..=4096.
pub const GLOSSARY_NAME_MAX: u32 = 256;
pub const GLOSSARY_DESCRIPTION_MAX: u32 = 4096;
/// `ShortDescription` 0..=1024 and `LongDescription` 0..=4096 of a glossary term (DataZone).
pub const TERM_SHORT_DESCRIPTION_MAX: u32 = 1024;
pub const TERM_LONG_DESCRIPTION_MAX: u32 = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            IAM_ROLE_ARN,
            SECRETS_MANAGER_ARN,
            REGION,
            DOMAIN_ID,
            PROJECT_NAME_OR_ID,
            EXTERNAL_ID,
            CLUSTER_NAME,
            WORKGROUP_NAME,
            OBJECT_NAME,
            CRON,
            DNS_SUBDOMAIN,
            FORM_NAME,
            FORM_TYPE_IDENTIFIER,
            REVISION,
            SECRET_ARN_PATTERN,
        ] {
            assert!(regex::Regex::new(pattern).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn pattern_table() {
        let cases: &[(&'static str, &str, bool)] = &[
            (IAM_ROLE_ARN, "arn:aws:iam::111111111111:role/dz-registration", true),
            (IAM_ROLE_ARN, "arn:aws:iam::111111111111:role/path/to/role", true),
            (IAM_ROLE_ARN, "arn:aws:iam::111111111111:user/admin", false),
            (IAM_ROLE_ARN, "arn:aws:iam::1111:role/x", false),
            (SECRETS_MANAGER_ARN, "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf", true),
            (SECRETS_MANAGER_ARN, "arn:aws:ssm:eu-central-1:222222222222:parameter/x", false),
            (REGION, "eu-central-1", true),
            (REGION, "us-gov-west-1", true),
            (REGION, "Europe", false),
            (DOMAIN_ID, "dzd_0123456789abcd", true),
            (DOMAIN_ID, "dzd-du859n8noi8axi", true),
            (DOMAIN_ID, "corp-mesh", false),
            (PROJECT_NAME_OR_ID, "sales", true),
            (PROJECT_NAME_OR_ID, "Sales Team_1", true),
            (PROJECT_NAME_OR_ID, "sales/eu", false),
            (CLUSTER_NAME, "prod-dwh", true),
            (CLUSTER_NAME, "Prod_DWH", false),
            (WORKGROUP_NAME, "analytics-wg", true),
            (OBJECT_NAME, "orders", true),
            (OBJECT_NAME, "order*", false),
            (CRON, "cron(0 3 * * ? *)", true),
            (CRON, "rate(5 minutes)", false),
            (EXTERNAL_ID, "optional", true),
            (EXTERNAL_ID, "has space", false),
            (FORM_NAME, "Ownership", true),
            (FORM_NAME, "_x1", true),
            (FORM_NAME, "1form", false),
            (FORM_NAME, "__", false),
            (FORM_NAME, "has space", false),
            (FORM_TYPE_IDENTIFIER, "amazon.datazone.SubscriptionTermsFormType", true),
            (FORM_TYPE_IDENTIFIER, "OwnershipForm", true),
            (FORM_TYPE_IDENTIFIER, ".hidden", false),
            (FORM_TYPE_IDENTIFIER, "trailing.", false),
            (REVISION, "3", true),
            (REVISION, "latest rev", false),
            (SECRET_ARN_PATTERN, "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-sales-*", true),
            (SECRET_ARN_PATTERN, "arn:aws:secretsmanager:*:*:secret:*", true),
            (SECRET_ARN_PATTERN, "dz-sales-*", false),
        ];
        for (pattern, input, want) in cases {
            assert_eq!(is_match(pattern, input), *want, "{input:?} against {pattern}");
        }
    }
}
