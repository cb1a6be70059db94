//! Business metadata, decided: what each asset of a data product is to carry (description,
//! glossary terms, forms), whether what status records it has is that, how a glossary term
//! reference resolves, and the revision that brings an asset there while keeping what people
//! added in the portal. Pure and table-tested; [`super::describe`] makes the calls.
//! (docs/datazone-semantics.md §13)

use std::collections::BTreeMap;

use crate::crd::{AssetDetails, AssetMetadataStatus, RedshiftDataProductSpec, RedshiftDataProductStatus};
use crate::datazone::{AssetInfo, AssetRevision, Form, GlossaryInfo, TermInfo};
use crate::naming::stable_hash;

use super::desired;

/// The form types of the Redshift asset types' own (technical) forms: DataZone keeps them on
/// every revision; the operator neither carries nor changes them [inferred].
pub const TECHNICAL_FORM_TYPES: [&str; 2] =
    ["amazon.datazone.RedshiftTableFormType", "amazon.datazone.RedshiftViewFormType"];

/// What one asset is to carry. `None`: the data product says nothing of that field, and it is
/// left as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub description: Option<String>,
    /// Glossary term references as the spec writes them.
    pub terms: Option<Vec<String>>,
    pub forms: Vec<Form>,
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.description.is_none() && self.terms.is_none() && self.forms.is_empty()
    }

    /// A fingerprint: equal for the same declaration, whatever the order of forms and terms.
    pub fn hash(&self) -> String {
        let mut forms = self.forms.clone();
        forms.sort();
        let mut terms = self.terms.clone();
        if let Some(t) = terms.as_mut() {
            t.sort();
        }
        format!("{:016x}", stable_hash(&format!("{:?}|{terms:?}|{forms:?}", self.description)))
    }

    pub fn form_names(&self) -> Vec<String> {
        self.forms.iter().map(|f| f.name.clone()).collect()
    }
}

/// The data product's business metadata, by asset name.
pub struct Declared {
    /// `metadataForms`: every asset's.
    pub product_forms: Vec<Form>,
    /// Each `assets` entry, by table or view name.
    pub details: BTreeMap<String, AssetDetails>,
    /// Whether metadata generation runs are asked for.
    pub generates: bool,
}

impl Declared {
    pub fn of(spec: &RedshiftDataProductSpec) -> Self {
        let details = spec.schemas.iter().flat_map(|s| &s.assets).map(|a| (a.name.clone(), a.clone())).collect();
        Self {
            product_forms: spec.metadata_forms.iter().map(desired::form).collect(),
            details,
            generates: spec.publishing.as_ref().is_some_and(|p| !p.generate_metadata.is_empty()),
        }
    }

    /// Whether the data product declares anything at all (if not, and status records nothing,
    /// the stage has nothing to look at).
    pub fn is_empty(&self) -> bool {
        self.product_forms.is_empty() && self.details.is_empty() && !self.generates
    }

    /// Whether every asset of the data product needs an entry in status (not only those named
    /// in `assets`).
    pub fn covers_every_asset(&self) -> bool {
        !self.product_forms.is_empty() || self.generates
    }

    /// What the asset of this name is to carry: the data product's forms, with the asset's own
    /// (a form of the same name wins), description and terms.
    pub fn wanted(&self, name: &str) -> Wanted {
        let own = self.details.get(name);
        let own_forms: Vec<Form> =
            own.map(|a| a.metadata_forms.iter().map(desired::form).collect()).unwrap_or_default();
        let mut forms: Vec<Form> =
            self.product_forms.iter().filter(|f| !own_forms.iter().any(|o| o.name == f.name)).cloned().collect();
        forms.extend(own_forms);
        Wanted {
            description: own.and_then(|a| a.description.clone()),
            terms: own.and_then(|a| a.glossary_terms.clone()),
            forms,
        }
    }

    /// What an asset has from its import alone: the data product's forms, which the data source
    /// attaches to every asset it creates.
    pub fn imported(&self) -> Wanted {
        Wanted { forms: self.product_forms.clone(), ..Wanted::default() }
    }
}

/// What to do for one asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssetStep {
    /// It carries what is wanted (or nothing is wanted and status records nothing).
    Nothing,
    /// It carries what is wanted without a call: status is to record it.
    Record(AssetMetadataStatus),
    /// Status records it, but nothing is wanted of it any more: forget it (what it carries stays).
    Forget,
    /// It needs a new revision.
    Revise,
}

/// The step for an asset: `entry` is what status records, `created_with_forms` says the run that
/// created it ran with the data product's current forms.
pub fn step(
    declared: &Declared,
    schema: &str,
    name: &str,
    asset_id: &str,
    entry: Option<&AssetMetadataStatus>,
    created_with_forms: bool,
) -> AssetStep {
    let wanted = declared.wanted(name);
    let hash = wanted.hash();
    if let Some(e) = entry {
        if e.metadata_hash == hash {
            return AssetStep::Nothing;
        }
        return if wanted.is_empty() && !declared.generates { AssetStep::Forget } else { AssetStep::Revise };
    }
    let keep = |metadata_hash: String, forms: Vec<String>| {
        AssetStep::Record(AssetMetadataStatus {
            schema: schema.to_string(),
            name: name.to_string(),
            asset_id: asset_id.to_string(),
            revision: None,
            listing_revision: None,
            metadata_hash,
            forms,
            generation_run_id: None,
        })
    };
    if wanted.is_empty() {
        return if declared.generates { keep(hash, Vec::new()) } else { AssetStep::Nothing };
    }
    if created_with_forms && declared.imported() == wanted {
        return keep(hash, Vec::new());
    }
    AssetStep::Revise
}

/// The assets whose declared business metadata a pass would write, from status alone (what
/// `plan` shows; a pass may find that an asset already carries it). An asset the last run
/// created with the data product's current forms, and that declares nothing else, is not one.
pub fn pending(declared: &Declared, status: &RedshiftDataProductStatus) -> Vec<String> {
    let taken_in =
        status.metadata_run_id.is_some() && status.metadata_run_id == status.last_run.as_ref().map(|r| r.id.clone());
    let entries: BTreeMap<&str, &AssetMetadataStatus> =
        status.asset_metadata.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut names: Vec<String> = status
        .assets
        .iter()
        .filter(|a| declared.covers_every_asset() || declared.details.contains_key(&a.name))
        .filter_map(|a| {
            let id = a.asset_id.as_deref()?;
            let entry = entries.get(a.name.as_str()).copied().filter(|e| e.asset_id == id);
            let created = !taken_in && a.status == "SUCCEEDED_CREATED";
            let revise = step(declared, &a.schema, &a.name, id, entry, created) == AssetStep::Revise;
            revise.then(|| format!("{}.{}", a.schema, a.name))
        })
        .collect();
    names.sort();
    names
}

/// The domain's glossary terms, for resolving the references of a spec.
#[derive(Clone, Debug, Default)]
pub struct TermIndex {
    pub terms: Vec<TermInfo>,
    pub glossaries: Vec<GlossaryInfo>,
}

/// Why a term reference did not resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unresolved {
    Unknown(String),
    /// A name more than one glossary has: the glossaries' names.
    Ambiguous(String, Vec<String>),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Unknown(r) => write!(f, "{r:?}"),
            Unresolved::Ambiguous(r, g) => {
                write!(f, "{r:?} (in glossaries {}: write <glossary>/<term>)", g.join(", "))
            }
        }
    }
}

impl TermIndex {
    /// A term reference: the term's ID, `<glossary>/<term>`, or a name one enabled term has.
    pub fn resolve(&self, reference: &str) -> Result<String, Unresolved> {
        let enabled = || self.terms.iter().filter(|t| t.enabled);
        if let Some(t) = enabled().find(|t| t.id == reference) {
            return Ok(t.id.clone());
        }
        let glossary_name = |id: &str| self.glossaries.iter().find(|g| g.id == id).map(|g| g.name.clone());
        if let Some((glossary, term)) = reference.split_once('/') {
            let found =
                enabled().find(|t| t.name == term && glossary_name(&t.glossary_id).as_deref() == Some(glossary));
            if let Some(t) = found {
                return Ok(t.id.clone());
            }
        }
        let named: Vec<&TermInfo> = enabled().filter(|t| t.name == reference).collect();
        match named.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(Unresolved::Unknown(reference.to_string())),
            many => {
                let mut names: Vec<String> = many
                    .iter()
                    .map(|t| glossary_name(&t.glossary_id).unwrap_or_else(|| t.glossary_id.clone()))
                    .collect();
                names.sort();
                Err(Unresolved::Ambiguous(reference.to_string(), names))
            }
        }
    }

    /// All references resolved, or every one that did not.
    pub fn resolve_all(&self, references: &[String]) -> Result<Vec<String>, Vec<Unresolved>> {
        let (ok, bad): (Vec<_>, Vec<_>) = references.iter().map(|r| self.resolve(r)).partition(Result::is_ok);
        if bad.is_empty() {
            Ok(ok.into_iter().filter_map(Result::ok).collect())
        } else {
            Err(bad.into_iter().filter_map(Result::err).collect())
        }
    }
}

/// The revision that gives `current` what is wanted: the declared description, terms and forms;
/// forms the operator wrote before and the data product no longer declares taken off; everything
/// else (a description or terms the data product does not declare, forms people added) as it is.
/// `None` when the asset already carries it all.
pub fn revision(
    current: &AssetInfo,
    wanted: &Wanted,
    term_ids: Option<Vec<String>>,
    written_before: &[String],
    client_token: String,
) -> Option<AssetRevision> {
    let editable = |f: &&Form| !TECHNICAL_FORM_TYPES.contains(&f.type_identifier.as_str());
    let mut forms: Vec<Form> = current
        .forms
        .iter()
        .filter(editable)
        .filter(|f| !wanted.forms.iter().any(|w| w.name == f.name))
        .filter(|f| !written_before.contains(&f.name))
        .cloned()
        .collect();
    forms.extend(wanted.forms.iter().cloned());
    let description = wanted.description.clone().or_else(|| current.description.clone());
    let glossary_terms = term_ids.unwrap_or_else(|| current.glossary_terms.clone());
    let current_forms: Vec<Form> = current.forms.iter().filter(editable).cloned().collect();
    let same_terms = {
        let (mut a, mut b) = (glossary_terms.clone(), current.glossary_terms.clone());
        a.sort();
        b.sort();
        a == b
    };
    let unchanged = description == current.description
        && same_terms
        && crate::datazone::catalog::forms_agree(&current_forms, &forms);
    (!unchanged).then(|| AssetRevision {
        asset_id: current.id.clone(),
        name: current.name.clone(),
        description,
        glossary_terms,
        forms,
        client_token,
    })
}

/// The client token of the revision (and its publication) that brings an asset to `hash`: a
/// retry after a crash makes the same revision, not a second one.
pub fn revision_token(uid: &str, asset_id: &str, hash: &str) -> String {
    format!("dzop-rev-{:016x}", stable_hash(&format!("{uid}|{asset_id}|{hash}")))
}

/// Problems with declared forms that DataZone would refuse anyway, named before any call.
pub fn form_problems(declared: &Declared) -> Vec<String> {
    let mut problems = Vec::new();
    let too_big = |f: &Form| f.content.len() > crate::crd::patterns::FORM_CONTENT_MAX;
    for f in declared.product_forms.iter().filter(|f| too_big(f)) {
        problems.push(format!("metadataForms {}: content is over 300,000 characters", f.name));
    }
    for name in declared.details.keys() {
        let wanted = declared.wanted(name);
        if wanted.forms.len() > crate::crd::patterns::FORMS_MAX as usize {
            problems.push(format!("{name}: {} forms with the data product's (DataZone takes 10)", wanted.forms.len()));
        }
        let own = &declared.details[name].metadata_forms;
        for f in own.iter().map(desired::form).filter(|f| too_big(f)) {
            problems.push(format!("{name}: form {}: content is over 300,000 characters", f.name));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{AssetKind, MetadataForm};

    fn form(name: &str, content: &str) -> MetadataForm {
        MetadataForm {
            form_name: name.into(),
            type_name: Some("OwnershipFormType".into()),
            type_identifier: None,
            type_revision: None,
            content: serde_json::from_str(content).unwrap(),
        }
    }

    fn details(name: &str, description: Option<&str>, terms: Option<&[&str]>) -> AssetDetails {
        AssetDetails {
            name: name.into(),
            kind: AssetKind::Table,
            description: description.map(Into::into),
            glossary_terms: terms.map(|t| t.iter().map(|s| s.to_string()).collect()),
            metadata_forms: Vec::new(),
        }
    }

    fn declared(product_forms: &[MetadataForm], assets: Vec<AssetDetails>, generates: bool) -> Declared {
        Declared {
            product_forms: product_forms.iter().map(desired::form).collect(),
            details: assets.into_iter().map(|a| (a.name.clone(), a)).collect(),
            generates,
        }
    }

    fn entry(name: &str, hash: &str) -> AssetMetadataStatus {
        AssetMetadataStatus {
            schema: "public".into(),
            name: name.into(),
            asset_id: format!("asset-{name}"),
            revision: Some("2".into()),
            listing_revision: Some("2".into()),
            metadata_hash: hash.into(),
            forms: Vec::new(),
            generation_run_id: None,
        }
    }

    #[test]
    fn what_each_asset_costs() {
        let owner = form("ownership", r#"{"owner":"sales"}"#);
        let d = declared(
            std::slice::from_ref(&owner),
            vec![details("customers", Some("Who buys"), Some(&["Customer"]))],
            false,
        );
        let forms_only = d.wanted("orders").hash();
        let described = d.wanted("customers").hash();
        let nothing = declared(&[], vec![], false);
        let recorded = |name: &str, hash: &str| match step(&d, "public", name, "a1", None, true) {
            AssetStep::Record(e) => e.metadata_hash == hash && e.revision.is_none(),
            _ => false,
        };
        // (declaration, asset, status entry, created with the current forms) → step
        let cases: Vec<(&Declared, &str, Option<AssetMetadataStatus>, bool, &str)> = vec![
            (&nothing, "orders", None, true, "nothing: nothing declared, nothing recorded"),
            (&nothing, "orders", Some(entry("orders", &forms_only)), false, "forget: no longer declared"),
            (&d, "orders", None, true, "record: its import gave it the data product's forms"),
            (&d, "orders", None, false, "revise: imported before the forms were declared"),
            (&d, "orders", Some(entry("orders", &forms_only)), false, "nothing: status says it has them"),
            (&d, "customers", None, true, "revise: a description and terms are never imported"),
            (&d, "customers", Some(entry("customers", &forms_only)), false, "revise: declared since"),
            (&d, "customers", Some(entry("customers", &described)), false, "nothing: written before"),
        ];
        for (declared, name, e, created, want) in cases {
            let got = step(declared, "public", name, "a1", e.as_ref(), created);
            let kind = match &got {
                AssetStep::Nothing => "nothing",
                AssetStep::Record(_) => "record",
                AssetStep::Forget => "forget",
                AssetStep::Revise => "revise",
            };
            assert!(want.starts_with(kind), "{want}: got {got:?}");
        }
        assert!(recorded("orders", &forms_only));
        let generating = declared(&[], vec![], true);
        assert!(matches!(step(&generating, "public", "orders", "a1", None, false), AssetStep::Record(_)));
    }

    #[test]
    fn an_asset_form_wins_over_the_data_products_of_the_same_name() {
        let mut customers = details("customers", None, None);
        customers.metadata_forms = vec![form("ownership", r#"{"owner":"crm"}"#)];
        let d = declared(&[form("ownership", r#"{"owner":"sales"}"#), form("quality", "{}")], vec![customers], false);
        let w = d.wanted("customers");
        let owner = w.forms.iter().find(|f| f.name == "ownership").unwrap();
        assert_eq!((w.forms.len(), owner.content.as_str()), (2, r#"{"owner":"crm"}"#));
        assert_eq!(d.wanted("orders").forms.len(), 2);
        assert_ne!(d.wanted("orders").hash(), w.hash());
    }

    #[test]
    fn hashes_ignore_order() {
        let a = Wanted { terms: Some(vec!["A".into(), "B".into()]), ..Wanted::default() };
        let b = Wanted { terms: Some(vec!["B".into(), "A".into()]), ..Wanted::default() };
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), Wanted::default().hash());
    }

    fn term(id: &str, name: &str, glossary: &str) -> TermInfo {
        TermInfo {
            id: id.into(),
            name: name.into(),
            glossary_id: glossary.into(),
            short_description: None,
            long_description: None,
            enabled: true,
        }
    }

    fn glossary(id: &str, name: &str) -> GlossaryInfo {
        GlossaryInfo { id: id.into(), name: name.into(), project_id: "p".into(), description: None, enabled: true }
    }

    #[test]
    fn term_references_resolve_by_id_name_or_glossary_and_name() {
        let mut disabled = term("t4", "Retired", "g1");
        disabled.enabled = false;
        let index = TermIndex {
            terms: vec![
                term("t1", "Customer", "g1"),
                term("t2", "Revenue", "g1"),
                term("t3", "Revenue", "g2"),
                disabled,
            ],
            glossaries: vec![glossary("g1", "Sales"), glossary("g2", "Finance")],
        };
        assert_eq!(index.resolve("Customer"), Ok("t1".into()));
        assert_eq!(index.resolve("t2"), Ok("t2".into()));
        assert_eq!(index.resolve("Finance/Revenue"), Ok("t3".into()));
        assert_eq!(
            index.resolve("Revenue"),
            Err(Unresolved::Ambiguous("Revenue".into(), vec!["Finance".into(), "Sales".into()]))
        );
        assert_eq!(index.resolve("Retired"), Err(Unresolved::Unknown("Retired".into())));
        assert_eq!(index.resolve("Nope"), Err(Unresolved::Unknown("Nope".into())));
        let refs = ["Customer".to_string(), "Nope".into(), "Other".into()];
        let bad = index.resolve_all(&refs).unwrap_err();
        assert_eq!(bad.iter().map(ToString::to_string).collect::<Vec<_>>(), [r#""Nope""#, r#""Other""#]);
    }

    fn asset() -> AssetInfo {
        let f = |name: &str, kind: &str, content: &str| Form {
            name: name.into(),
            type_identifier: kind.into(),
            type_revision: Some("1".into()),
            content: content.into(),
        };
        AssetInfo {
            id: "a1".into(),
            name: "Customers (business name)".into(),
            revision: "3".into(),
            description: Some("written in the portal".into()),
            glossary_terms: vec!["t9".into()],
            forms: vec![
                f("RedshiftTableForm", "amazon.datazone.RedshiftTableFormType", r#"{"tableName":"customers"}"#),
                f("notes", "NotesFormType", r#"{"text":"a person's"}"#),
                f("stale", "OwnershipFormType", r#"{"owner":"old"}"#),
            ],
            listed: true,
        }
    }

    #[test]
    fn a_revision_changes_what_is_declared_and_keeps_the_rest() {
        let wanted = Wanted {
            description: None,
            terms: Some(vec!["Customer".into()]),
            forms: vec![desired::form(&form("ownership", r#"{"owner":"sales"}"#))],
        };
        let r = revision(&asset(), &wanted, Some(vec!["t1".into()]), &["stale".to_string()], "tok".into()).unwrap();
        assert_eq!(r.name, "Customers (business name)", "the business name stays");
        assert_eq!(r.description.as_deref(), Some("written in the portal"), "an undeclared description stays");
        assert_eq!(r.glossary_terms, ["t1"], "declared terms are the terms");
        let names: Vec<&str> = r.forms.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["notes", "ownership"],
            "a person's form stays, the technical one is DataZone's, a dropped one goes"
        );
    }

    #[test]
    fn no_revision_when_the_asset_carries_it_already() {
        let current = asset();
        let wanted = Wanted {
            description: Some("written in the portal".into()),
            terms: Some(vec!["t9".into()]),
            forms: vec![desired::form(&form("stale", r#"{"owner":"old"}"#))],
        };
        assert_eq!(revision(&current, &wanted, Some(vec!["t9".into()]), &[], "tok".into()), None);
        let changed = Wanted { description: Some("new".into()), ..wanted };
        assert!(revision(&current, &changed, Some(vec!["t9".into()]), &[], "tok".into()).is_some());
    }

    #[test]
    fn plan_names_the_assets_a_pass_would_write() {
        use crate::crd::{AssetStatus, RunSummary};
        let d = declared(&[form("ownership", "{}")], vec![details("customers", Some("Who buys"), None)], false);
        let asset = |name: &str, outcome: &str| AssetStatus {
            schema: "public".into(),
            name: name.into(),
            kind: AssetKind::Table,
            asset_id: Some(format!("asset-{name}")),
            status: outcome.into(),
        };
        let mut status = RedshiftDataProductStatus {
            last_run: Some(RunSummary { id: "run-1".into(), ..RunSummary::default() }),
            assets: vec![
                asset("customers", "SUCCEEDED_CREATED"),
                asset("orders", "SUCCEEDED_CREATED"),
                asset("v", "UNCHANGED"),
            ],
            ..RedshiftDataProductStatus::default()
        };
        assert_eq!(pending(&d, &status), ["public.customers", "public.v"], "orders has its forms from the import");
        status.asset_metadata = vec![entry("customers", &d.wanted("customers").hash())];
        status.metadata_run_id = Some("run-1".into());
        assert_eq!(pending(&d, &status), ["public.orders", "public.v"], "taken in: status is all there is");
        assert!(pending(&declared(&[], vec![], false), &status).is_empty());
    }

    #[test]
    fn oversized_or_too_many_forms_are_named() {
        let big = form("big", &format!(r#"{{"text":"{}"}}"#, "x".repeat(300_000)));
        let mut many = details("customers", None, None);
        many.metadata_forms = (0..10).map(|i| form(&format!("f{i}"), "{}")).collect();
        let d = declared(&[big, form("shared", "{}")], vec![many], false);
        let problems = form_problems(&d);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("metadataForms big") && problems[1].contains("customers: 12 forms"),
            "{problems:?}"
        );
    }
}
