//! Business metadata, decided: what each asset of a data product is to carry (description,
//! glossary terms, forms), whether what status records it has is that, how a glossary term
//! reference resolves, and the revision that brings an asset there while keeping what people
//! added in the portal. Pure and table-tested; [`crate::controller::data_product::describe`] makes the calls.
//! (docs/datazone-semantics.md §13)

use std::collections::BTreeMap;

use crate::crd::{
    AssetDetails, AssetFormsMove, AssetFormsStatus, AssetMetadataStatus, RedshiftDataProductSpec,
    RedshiftDataProductStatus,
};
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
    /// `publishing.generateMetadata`.
    pub generate: Vec<String>,
}

impl Declared {
    pub fn of(spec: &RedshiftDataProductSpec) -> Self {
        let details = spec.schemas.iter().flat_map(|s| &s.assets).map(|a| (a.name.clone(), a.clone())).collect();
        let generate = spec.publishing.as_ref().map(|p| &p.generate_metadata).into_iter().flatten();
        Self {
            product_forms: spec.metadata_forms.iter().map(desired::form).collect(),
            details,
            generate: generate.map(|g| g.as_str().to_string()).collect(),
        }
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

    /// What an asset has from its import alone, and what every asset without metadata of its own
    /// is to carry: the data product's forms, which the data source attaches to every asset it
    /// creates.
    pub fn imported(&self) -> Wanted {
        Wanted { forms: self.product_forms.clone(), ..Wanted::default() }
    }
}

/// What to do for an asset with metadata of its own (`schemas[].assets`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DetailStep {
    /// Status records that it carries what is wanted.
    Nothing,
    /// It carries what is wanted without a call (its import gave it): status is to record it.
    Record(AssetMetadataStatus),
    /// It needs a revision; the forms the operator wrote on it before (to take off what is no
    /// longer declared).
    Revise { written_before: Vec<String> },
}

/// Where one asset is, as status and the run taken in know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub schema: String,
    pub asset_id: String,
    /// Created by a run of the data source's current configuration (its forms included).
    pub created_with_forms: bool,
}

/// The step for an asset with metadata of its own: `entry` is what status records, `carried` the
/// data product's forms it carries otherwise (those every asset without an entry carries).
pub fn detail_step(
    declared: &Declared,
    name: &str,
    seen: &Seen,
    entry: Option<&AssetMetadataStatus>,
    carried: &[String],
) -> DetailStep {
    let wanted = declared.wanted(name);
    let hash = wanted.hash();
    match entry.filter(|e| e.asset_id == seen.asset_id) {
        Some(e) if e.metadata_hash == hash => DetailStep::Nothing,
        Some(e) => DetailStep::Revise { written_before: e.forms.clone() },
        None if seen.created_with_forms && declared.imported() == wanted => DetailStep::Record(AssetMetadataStatus {
            schema: seen.schema.clone(),
            name: name.to_string(),
            asset_id: seen.asset_id.clone(),
            revision: None,
            listing_revision: None,
            metadata_hash: hash,
            forms: wanted.form_names(),
        }),
        None => DetailStep::Revise { written_before: carried.to_vec() },
    }
}

/// The fingerprint of "no forms": what assets carry before any were declared.
pub fn no_forms() -> AssetFormsStatus {
    AssetFormsStatus { hash: Wanted::default().hash(), forms: Vec::new(), moving_to: None }
}

/// The data product's forms on the assets without metadata of their own: what they carry now
/// (`status`), and where a change of them has got, on the way to `target` (the spec's now).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormsProgress {
    pub carried: AssetFormsStatus,
    pub target: Wanted,
}

impl FormsProgress {
    pub fn new(status: Option<&AssetFormsStatus>, target: Wanted) -> Self {
        let mut carried = status.cloned().unwrap_or_else(no_forms);
        // A move towards other forms than the spec's now starts over.
        if carried.moving_to.as_ref().is_some_and(|m| m.hash != target.hash()) {
            carried.moving_to = None;
        }
        Self { carried, target }
    }

    /// Whether the assets carry the spec's forms (nothing to write).
    pub fn settled(&self) -> bool {
        self.carried.hash == self.target.hash()
    }

    /// Whether the asset `name` carries the spec's forms already.
    pub fn carries_target(&self, name: &str, created_with_forms: bool) -> bool {
        let through = self.carried.moving_to.as_ref().and_then(|m| m.through.as_deref());
        self.settled() || created_with_forms || through.is_some_and(|t| name <= t)
    }

    /// The forms the asset `name` carries (to take off what is no longer declared).
    pub fn written_before(&self, name: &str, created_with_forms: bool) -> Vec<String> {
        if self.carries_target(name, created_with_forms) {
            self.target.form_names()
        } else {
            self.carried.forms.clone()
        }
    }

    /// The assets up to `name` (by name) carry the spec's forms (it only moves forward).
    pub fn through(&mut self, name: &str) {
        let target = &self.target;
        let moving = self.carried.moving_to.get_or_insert_with(|| AssetFormsMove {
            hash: target.hash(),
            forms: target.form_names(),
            through: None,
        });
        if moving.through.as_deref().is_none_or(|t| name > t) {
            moving.through = Some(name.to_string());
        }
    }

    /// Every asset carries the spec's forms.
    pub fn done(&mut self) {
        self.carried = AssetFormsStatus { hash: self.target.hash(), forms: self.target.form_names(), moving_to: None };
    }
}

/// The assets whose declared business metadata a pass would write, from status alone (what
/// `plan` shows; a pass may find that an asset already carries it).
pub fn pending(declared: &Declared, status: &RedshiftDataProductStatus) -> Vec<String> {
    let taken_in =
        status.metadata_run_id.is_some() && status.metadata_run_id == status.last_run.as_ref().map(|r| r.id.clone());
    let entries: BTreeMap<&str, &AssetMetadataStatus> =
        status.asset_metadata.iter().map(|e| (e.name.as_str(), e)).collect();
    let forms = FormsProgress::new(status.asset_forms.as_ref(), declared.imported());
    let mut names: Vec<String> = status
        .assets
        .iter()
        .filter(|a| declared.details.contains_key(&a.name) || entries.contains_key(a.name.as_str()))
        .filter_map(|a| {
            let seen = Seen {
                schema: a.schema.clone(),
                asset_id: a.asset_id.clone()?,
                created_with_forms: !taken_in && a.status == "SUCCEEDED_CREATED",
            };
            let carried = forms.written_before(&a.name, seen.created_with_forms);
            let entry = entries.get(a.name.as_str()).copied();
            let revise = !declared.details.contains_key(&a.name)
                || matches!(detail_step(declared, &a.name, &seen, entry, &carried), DetailStep::Revise { .. });
            revise.then(|| format!("{}.{}", a.schema, a.name))
        })
        .collect();
    names.sort();
    // The first run's assets have the forms from their import.
    if !forms.settled() && status.last_run.is_some() && (taken_in || status.asset_forms.is_some()) {
        names.push("every other asset (metadataForms)".into());
    }
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
        // DataZone takes only enabled terms of enabled glossaries on an asset.
        let glossary_enabled = |id: &str| self.glossaries.iter().find(|g| g.id == id).is_none_or(|g| g.enabled);
        let enabled = || self.terms.iter().filter(|t| t.enabled && glossary_enabled(&t.glossary_id));
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
/// `Ok(None)` when the asset already carries it all; an error when the forms people added with
/// the declared ones would be more than an asset carries.
pub fn revision(
    current: &AssetInfo,
    wanted: &Wanted,
    term_ids: Option<Vec<String>>,
    written_before: &[String],
    client_token: String,
) -> Result<Option<AssetRevision>, String> {
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
    if unchanged {
        return Ok(None);
    }
    if forms.len() > crate::crd::patterns::FORMS_MAX as usize {
        let names: Vec<&str> = forms.iter().map(|f| f.name.as_str()).collect();
        return Err(format!(
            "{} forms with those already on the asset ({}): an asset carries 10, its technical form among them",
            forms.len(),
            names.join(", ")
        ));
    }
    Ok(Some(AssetRevision {
        asset_id: current.id.clone(),
        name: current.name.clone(),
        description,
        glossary_terms,
        forms,
        client_token,
    }))
}

/// The client token of the revision that brings an asset from its revision `from` to `hash`: a
/// retry after a crash makes the same revision, not a second one; the same declaration written
/// again later (A → B → A) is a new revision, since the asset has moved on.
pub fn revision_token(uid: &str, asset_id: &str, from: &str, hash: &str) -> String {
    format!("dzop-rev-{:016x}", stable_hash(&format!("{uid}|{asset_id}|{from}|{hash}")))
}

/// The client token of the publication of an asset's revision.
pub fn publish_token(uid: &str, asset_id: &str, revision: &str) -> String {
    format!("dzop-pub-{:016x}", stable_hash(&format!("{uid}|{asset_id}|{revision}")))
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
            problems.push(format!(
                "{name}: {} forms with the data product's (an asset carries 10, its technical form among them)",
                wanted.forms.len()
            ));
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

    fn declared(product_forms: &[MetadataForm], assets: Vec<AssetDetails>) -> Declared {
        Declared {
            product_forms: product_forms.iter().map(desired::form).collect(),
            details: assets.into_iter().map(|a| (a.name.clone(), a)).collect(),
            generate: Vec::new(),
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
            forms: vec!["ownership".into()],
        }
    }

    fn seen(created_with_forms: bool) -> Seen {
        Seen { schema: "public".into(), asset_id: "asset-customers".into(), created_with_forms }
    }

    #[test]
    fn what_an_asset_with_metadata_of_its_own_costs() {
        let owner = form("ownership", r#"{"owner":"sales"}"#);
        let described =
            declared(std::slice::from_ref(&owner), vec![details("customers", Some("Who buys"), Some(&["Customer"]))]);
        let bare = declared(std::slice::from_ref(&owner), vec![details("customers", None, None)]);
        let written = described.wanted("customers").hash();
        let carried = ["ownership".to_string()];
        let kind = |d: &Declared, e: Option<AssetMetadataStatus>, created| match detail_step(
            d,
            "customers",
            &seen(created),
            e.as_ref(),
            &carried,
        ) {
            DetailStep::Nothing => "nothing".to_string(),
            DetailStep::Record(e) => format!("record {}", e.forms.join(",")),
            DetailStep::Revise { written_before } => format!("revise from {}", written_before.join(",")),
        };
        // (declaration, status entry, created with the current forms) → step
        let cases: Vec<(&Declared, Option<AssetMetadataStatus>, bool, &str)> = vec![
            (&described, None, true, "revise from ownership"),
            (&described, None, false, "revise from ownership"),
            (&described, Some(entry("customers", "old")), false, "revise from ownership"),
            (&described, Some(entry("customers", &written)), false, "nothing"),
            (&bare, None, true, "record ownership"),
            (&bare, None, false, "revise from ownership"),
        ];
        for (d, e, created, want) in cases {
            assert_eq!(kind(d, e.clone(), created), want, "{e:?} created {created}");
        }
        let mut other_asset = entry("customers", &written);
        other_asset.asset_id = "asset-recreated".into();
        assert_eq!(kind(&described, Some(other_asset), false), "revise from ownership", "a recreated asset");
    }

    #[test]
    fn a_change_of_the_data_products_forms_moves_through_the_assets_in_name_order() {
        let owner = form("ownership", r#"{"owner":"sales"}"#);
        let d = declared(std::slice::from_ref(&owner), vec![]);
        let mut forms = FormsProgress::new(None, d.imported());
        assert!(!forms.settled(), "no forms carried yet");
        assert!(forms.carries_target("b", true), "a created asset has them from its import");
        assert!(!forms.carries_target("b", false));
        assert_eq!(forms.written_before("b", false), Vec::<String>::new());
        forms.through("b");
        forms.through("a");
        assert!(
            forms.carries_target("a", false) && forms.carries_target("b", false) && !forms.carries_target("c", false)
        );
        let saved = forms.carried.clone();
        let resumed = FormsProgress::new(Some(&saved), d.imported());
        assert!(resumed.carries_target("b", false), "the move goes on from status");
        let other = declared(&[form("quality", "{}")], vec![]);
        let restarted = FormsProgress::new(Some(&saved), other.imported());
        assert!(!restarted.carries_target("a", false), "a move to other forms starts over");
        forms.done();
        assert!(forms.settled());
        assert_eq!(forms.carried.forms, ["ownership"]);
        let removed = FormsProgress::new(Some(&forms.carried), declared(&[], vec![]).imported());
        assert_eq!(removed.written_before("z", false), ["ownership"], "taken out of the spec: taken off the assets");
        assert!(
            FormsProgress::new(None, declared(&[], vec![]).imported()).settled(),
            "nothing declared, nothing carried"
        );
    }

    #[test]
    fn an_asset_form_wins_over_the_data_products_of_the_same_name() {
        let mut customers = details("customers", None, None);
        customers.metadata_forms = vec![form("ownership", r#"{"owner":"crm"}"#)];
        let d = declared(&[form("ownership", r#"{"owner":"sales"}"#), form("quality", "{}")], vec![customers]);
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
        let r = revision(&asset(), &wanted, Some(vec!["t1".into()]), &["stale".to_string()], "tok".into())
            .unwrap()
            .unwrap();
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
        assert_eq!(revision(&current, &wanted, Some(vec!["t9".into()]), &[], "tok".into()), Ok(None));
        let changed = Wanted { description: Some("new".into()), ..wanted.clone() };
        assert!(revision(&current, &changed, Some(vec!["t9".into()]), &[], "tok".into()).is_ok_and(|r| r.is_some()));
        let crowded =
            Wanted { forms: (0..8).map(|i| desired::form(&form(&format!("f{i}"), "{}"))).collect(), ..wanted };
        let refused = revision(&current, &crowded, None, &[], "tok".into()).unwrap_err();
        assert!(refused.starts_with("10 forms with those already on the asset"), "{refused}");
    }

    #[test]
    fn plan_names_the_assets_a_pass_would_write() {
        use crate::crd::{AssetStatus, RunSummary};
        let d = declared(&[form("ownership", "{}")], vec![details("customers", Some("Who buys"), None)]);
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
        assert_eq!(pending(&d, &status), ["public.customers"], "the others have the forms from their import");
        let mut customers = entry("customers", &d.wanted("customers").hash());
        customers.asset_id = "asset-customers".into();
        status.asset_metadata = vec![customers];
        status.metadata_run_id = Some("run-1".into());
        let mut settled = FormsProgress::new(None, d.imported());
        settled.done();
        status.asset_forms = Some(settled.carried);
        assert!(pending(&d, &status).is_empty(), "taken in and written: nothing");
        let changed =
            declared(&[form("ownership", r#"{"owner":"hr"}"#)], vec![details("customers", Some("Who buys"), None)]);
        assert_eq!(pending(&changed, &status), ["public.customers", "every other asset (metadataForms)"]);
    }

    #[test]
    fn oversized_or_too_many_forms_are_named() {
        let big = form("big", &format!(r#"{{"text":"{}"}}"#, "x".repeat(300_000)));
        let mut many = details("customers", None, None);
        many.metadata_forms = (0..9).map(|i| form(&format!("f{i}"), "{}")).collect();
        let d = declared(&[big, form("shared", "{}")], vec![many]);
        let problems = form_problems(&d);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("metadataForms big") && problems[1].contains("customers: 11 forms"),
            "{problems:?}"
        );
    }
}
