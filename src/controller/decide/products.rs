//! The DataZone data products `spec.dataProduct` asks for, and the next step for each: pure, so
//! every situation is a table row below. The stage that takes the steps is
//! [`crate::controller::data_product::products`] (docs/datazone-semantics.md §14).
//!
//! A data product's wanted revision is a function of the spec and the run's assets; its
//! fingerprint in status says whether DataZone has it. A changed fingerprint makes one revision
//! with the whole item list (a revision restates everything), then one publication of it; an
//! unchanged one makes no call. The catalog's view of the project's data products (one shared
//! `SearchListings` sweep) shows what a person changed behind the operator's back.

use std::collections::BTreeMap;

use crate::crd::{CatalogProductStatus, ProductGroup, ProductPer, RedshiftDataProductSpec};
use crate::datazone::{Form, ProductItem, ProductListing, ProductRevision};
use crate::naming::{short_hash, stable_hash};

use super::business::Seen;
use super::desired::{self, OWNER_MARKER, uid_mark};

/// DataZone's data product name limit [model: CreateDataProduct `name` 1–64].
const NAME_MAX: usize = 64;

/// One item of a wanted data product: an asset of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedItem {
    /// The table or view name.
    pub name: String,
    pub asset_id: String,
    /// Glossary term references (names or IDs) of the item.
    pub terms: Vec<String>,
}

/// A DataZone data product the spec asks for, before its term references are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub name: String,
    /// The description as written, the operator's mark included.
    pub description: String,
    /// Glossary term references of the product as a whole.
    pub terms: Vec<String>,
    pub forms: Vec<Form>,
    /// In asset name order.
    pub items: Vec<WantedItem>,
    /// Declared items the run has no asset of (`schema.name`).
    pub missing: Vec<String>,
    /// A data product of this name the project has, not made by this resource, is to be taken over.
    pub adopt: bool,
}

impl Wanted {
    /// Every term reference, the product's and its items'.
    pub fn references(&self) -> Vec<String> {
        let mut all: Vec<String> = self.terms.iter().chain(self.items.iter().flat_map(|i| &i.terms)).cloned().collect();
        all.sort();
        all.dedup();
        all
    }

    /// The revision to write, with term references replaced by `ids` (every reference of
    /// [`Wanted::references`] resolved).
    pub fn revision(&self, ids: &BTreeMap<String, String>, client_token: String) -> ProductRevision {
        let resolve = |refs: &[String]| refs.iter().filter_map(|r| ids.get(r).cloned()).collect::<Vec<_>>();
        ProductRevision {
            name: self.name.clone(),
            description: Some(self.description.clone()),
            glossary_terms: resolve(&self.terms),
            forms: self.forms.clone(),
            items: self
                .items
                .iter()
                .map(|i| ProductItem { asset_id: i.asset_id.clone(), glossary_terms: resolve(&i.terms) })
                .collect(),
            client_token,
        }
    }
}

/// A fingerprint of everything a revision says (its client token aside).
pub fn fingerprint(r: &ProductRevision) -> String {
    let mut forms = r.forms.clone();
    forms.sort();
    let said = format!("{}|{:?}|{:?}|{forms:?}|{:?}", r.name, r.description, r.glossary_terms, r.items);
    format!("{:016x}", stable_hash(&said))
}

/// Who the data products belong to, as their names and descriptions say.
pub struct Owner<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
}

/// A data product name: as given, or from parts, shortened with a hash when over DataZone's 64.
fn product_name(raw: &str) -> String {
    if raw.chars().count() <= NAME_MAX {
        return raw.to_string();
    }
    let head: String = raw.chars().take(NAME_MAX - 9).collect();
    format!("{head}-{}", short_hash(raw))
}

/// The description: the one declared (or one naming the resource), then the operator's mark on
/// a line of its own, which says whose data product it is ([`is_ours`]).
pub fn description(declared: Option<&str>, owner: &Owner<'_>) -> String {
    let mark = format!(
        "Kept by datazone-operator from RedshiftDataProduct {}/{} ({}; {OWNER_MARKER})",
        owner.namespace,
        owner.name,
        uid_mark(owner.uid)
    );
    let text = declared
        .map(str::to_string)
        .unwrap_or_else(|| format!("Tables and views of RedshiftDataProduct {}/{}", owner.namespace, owner.name));
    // The spec's limit leaves room for the mark within DataZone's 4096 [model].
    format!("{text}\n\n{mark}")
}

/// Whether a data product's description says it is this resource's.
pub fn is_ours(description: Option<&str>, uid: &str) -> bool {
    description.is_some_and(|d| d.contains(OWNER_MARKER) && d.contains(&uid_mark(uid)))
}

/// Whether a data product's description says it is some resource's of the operator (another's:
/// never adopted).
pub fn is_operators(description: Option<&str>) -> bool {
    description.is_some_and(|d| d.contains(OWNER_MARKER))
}

/// What a name DataZone refused as taken comes to, given the project's data products of that name
/// (`found`: ID and description).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This resource's own (its creation's answer was lost): taken on.
    Ours(String),
    /// Someone's, and the spec says `adopt`: taken over.
    Adopted(String),
    /// Someone's (or another resource's): left alone.
    Taken,
}

pub fn claim(found: &[(String, Option<String>)], uid: &str, adopt: bool) -> Claim {
    if let Some((id, _)) = found.iter().find(|(_, d)| is_ours(d.as_deref(), uid)) {
        return Claim::Ours(id.clone());
    }
    match found {
        [(id, d)] if adopt && !is_operators(d.as_deref()) => Claim::Adopted(id.clone()),
        _ => Claim::Taken,
    }
}

/// The data products the spec asks for, from the run's assets (`index`: by table or view name).
/// None when `spec.dataProduct` is left out.
pub fn wanted(spec: &RedshiftDataProductSpec, owner: &Owner<'_>, index: &BTreeMap<String, Seen>) -> Vec<Wanted> {
    let Some(dp) = &spec.data_product else { return Vec::new() };
    if !dp.groups.is_empty() {
        return dp.groups.iter().map(|g| group(g, owner, index)).collect();
    }
    let whole = |name: String, items: Vec<WantedItem>| Wanted {
        name,
        description: description(dp.description.as_deref(), owner),
        terms: dp.glossary_terms.clone(),
        forms: dp.metadata_forms.iter().map(desired::form).collect(),
        items,
        missing: Vec::new(),
        adopt: dp.adopt,
    };
    let item = |(name, seen): (&String, &Seen)| WantedItem {
        name: name.clone(),
        asset_id: seen.asset_id.clone(),
        terms: Vec::new(),
    };
    let base = dp.name.clone().unwrap_or_else(|| owner.name.to_string());
    match dp.per {
        ProductPer::Resource => vec![whole(product_name(&base), index.iter().map(item).collect())],
        ProductPer::Schema => {
            let mut products: Vec<Wanted> = Vec::new();
            for schema in &spec.schemas {
                let items: Vec<WantedItem> = index.iter().filter(|(_, s)| s.schema == schema.name).map(item).collect();
                products.push(whole(product_name(&format!("{base}-{}", schema.name)), items));
            }
            products
        }
    }
}

/// The names of the data products the spec asks for, as [`wanted`] names them (no run needed).
pub fn names(spec: &RedshiftDataProductSpec, owner: &Owner<'_>) -> Vec<String> {
    let Some(dp) = &spec.data_product else { return Vec::new() };
    if !dp.groups.is_empty() {
        return dp.groups.iter().map(|g| product_name(&g.name)).collect();
    }
    let base = dp.name.clone().unwrap_or_else(|| owner.name.to_string());
    match dp.per {
        ProductPer::Resource => vec![product_name(&base)],
        ProductPer::Schema => spec.schemas.iter().map(|s| product_name(&format!("{base}-{}", s.name))).collect(),
    }
}

/// Whether a data product without assets is only news (a schema of `per: Schema` with nothing in
/// it yet), not a problem.
pub fn empty_is_fine(spec: &RedshiftDataProductSpec) -> bool {
    spec.data_product.as_ref().is_some_and(|dp| dp.groups.is_empty() && dp.per == ProductPer::Schema)
}

fn group(g: &ProductGroup, owner: &Owner<'_>, index: &BTreeMap<String, Seen>) -> Wanted {
    let mut items = Vec::new();
    let mut missing = Vec::new();
    for declared in &g.items {
        match index.get(&declared.name).filter(|s| s.schema == declared.schema) {
            Some(seen) => items.push(WantedItem {
                name: declared.name.clone(),
                asset_id: seen.asset_id.clone(),
                terms: declared.glossary_terms.clone(),
            }),
            None => missing.push(format!("{}.{}", declared.schema, declared.name)),
        }
    }
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Wanted {
        name: product_name(&g.name),
        description: description(g.description.as_deref(), owner),
        terms: g.glossary_terms.clone(),
        forms: g.metadata_forms.iter().map(desired::form).collect(),
        items,
        missing,
        adopt: g.adopt,
    }
}

/// The project's data product listings as one `SearchListings` sweep found them, shared by the
/// project's data products for a resync.
pub struct ProductSweep {
    pub listings: Vec<ProductListing>,
    /// When it was taken (RFC 3339, to the second).
    pub taken: String,
}

/// What the catalog shows of the project's data products, when a sweep was looked at.
#[derive(Clone, Copy, Debug)]
pub enum Catalog<'a> {
    /// Not looked at in this pass: status is taken at its word.
    Unseen,
    /// The project's data product listings, `taken` at that time (RFC 3339).
    Seen { listings: &'a [ProductListing], taken: &'a str },
}

/// The next step for one wanted data product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductStep {
    /// Nothing to write: no asset to hold (DataZone needs at least one item to publish).
    Empty,
    Create,
    /// A new revision with everything the product is to say.
    Revise {
        id: String,
        why: Revision,
    },
    /// Publish the revision status records.
    Publish {
        id: String,
        revision: String,
        why: Publication,
    },
    Done,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revision {
    /// The spec or the run's assets changed.
    Changed,
    /// Found under its name after a crash or a lost answer: what it says is not known.
    Found,
    /// The catalog shows another revision than the operator's: someone published one.
    EditedElsewhere { shown: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publication {
    /// The revision was just made (or its publication did not finish).
    New,
    /// The catalog no longer shows it: unpublished behind the operator's back.
    Unpublished,
}

/// The step for `w` (its revision's fingerprint `hash`), given what status records of it and
/// what the catalog shows.
pub fn step(hash: &str, items: usize, entry: Option<&CatalogProductStatus>, catalog: Catalog<'_>) -> ProductStep {
    let Some((entry, id)) = entry.and_then(|e| Some((e, e.id.clone()?))) else {
        return if items == 0 { ProductStep::Empty } else { ProductStep::Create };
    };
    let revision = entry.revision.clone().filter(|r| !r.is_empty());
    let Some(revision) = revision else { return ProductStep::Revise { id, why: Revision::Found } };
    if entry.hash.as_deref() != Some(hash) {
        return if items == 0 { ProductStep::Empty } else { ProductStep::Revise { id, why: Revision::Changed } };
    }
    // CREATING is on its way: the catalog's view confirms it.
    if !matches!(entry.listing_status.as_deref(), Some("ACTIVE" | "CREATING")) {
        return ProductStep::Publish { id, revision, why: Publication::New };
    }
    // A view taken before the operator's own publication (and the search index's settling after
    // it: `taken` is when the view can be trusted from) says nothing of it.
    if let Catalog::Seen { listings, taken } = catalog
        && entry.listed_at.as_deref().is_none_or(|at| at < taken)
    {
        match listings.iter().find(|l| l.product_id == id) {
            None => return ProductStep::Publish { id, revision, why: Publication::Unpublished },
            Some(l) if l.product_revision != revision => {
                return ProductStep::Revise {
                    id,
                    why: Revision::EditedElsewhere { shown: l.product_revision.clone() },
                };
            }
            Some(_) => {}
        }
    }
    ProductStep::Done
}

/// What `plan` says of one data product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductChange {
    /// Made with these items (table and view names), then published.
    Create {
        name: String,
        items: Vec<String>,
    },
    /// A new revision, then published: the items added and removed (neither: its description,
    /// terms or forms changed, or the catalog shows a revision a person published).
    Revise {
        name: String,
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// Published (again).
    Publish {
        name: String,
    },
    /// Nothing to make yet: no asset of the run to hold.
    Empty {
        name: String,
    },
    /// No longer asked for: unpublished and deleted (`delete`), or left as it is.
    Retire {
        name: String,
        delete: bool,
    },
    /// Not written until something changes: why.
    Blocked {
        name: String,
        why: String,
    },
    Unchanged {
        name: String,
    },
}

impl ProductChange {
    /// Whether it changes DataZone.
    pub fn mutates(&self) -> bool {
        match self {
            ProductChange::Create { .. } | ProductChange::Revise { .. } | ProductChange::Publish { .. } => true,
            ProductChange::Retire { delete, .. } => *delete,
            ProductChange::Empty { .. } | ProductChange::Unchanged { .. } | ProductChange::Blocked { .. } => false,
        }
    }
}

/// What taking `step` for `want` changes; `before` names the items the data product holds now
/// (a revision's diff).
pub fn change(step: &ProductStep, want: &Wanted, before: &[String]) -> ProductChange {
    let name = want.name.clone();
    let now: Vec<String> = want.items.iter().map(|i| i.name.clone()).collect();
    match step {
        ProductStep::Empty => ProductChange::Empty { name },
        ProductStep::Create => ProductChange::Create { name, items: now },
        ProductStep::Revise { .. } => {
            let added = now.iter().filter(|n| !before.contains(n)).cloned().collect();
            let removed = before.iter().filter(|n| !now.contains(n)).cloned().collect();
            ProductChange::Revise { name, added, removed }
        }
        ProductStep::Publish { .. } => ProductChange::Publish { name },
        ProductStep::Done => ProductChange::Unchanged { name },
    }
}

/// How long after a publication DataZone's search may not show it yet is not documented: a view
/// of the catalog is read only for publications this long before it was taken, a tenth of the
/// resync and at most a minute [inferred] (docs/datazone-semantics.md §14).
pub fn search_settles(resync: std::time::Duration) -> std::time::Duration {
    (resync / 10).min(std::time::Duration::from_secs(60))
}

/// The time (RFC 3339) a view taken at `taken` can be trusted for publications before; `taken`
/// unreadable: the earliest time, so it is trusted for nothing.
pub fn trusted_before(taken: &str, settles: std::time::Duration) -> String {
    let settles = jiff::SignedDuration::try_from(settles).unwrap_or_default();
    match taken.parse::<jiff::Timestamp>().ok().and_then(|t| t.checked_sub(settles).ok()) {
        Some(t) => t.to_string(),
        None => String::new(),
    }
}

/// The client token of a data product's creation: one per resource, name and spec generation, so
/// a retry after a lost answer gets the same data product, and one made again after its deletion
/// is a new one.
pub fn create_token(uid: &str, name: &str, generation: Option<i64>) -> String {
    format!("dzop-dp-{:016x}", stable_hash(&format!("{uid}|{name}|{generation:?}")))
}

/// The client token of a revision: one per data product, what it says and the revision it
/// follows (so a repair after an edit elsewhere is a new revision, a retry the same one).
pub fn revision_token(uid: &str, id: &str, hash: &str, after: &str) -> String {
    format!("dzop-dpr-{:016x}", stable_hash(&format!("{uid}|{id}|{hash}|{after}")))
}

/// The client token of a publication: one per revision, and per repair of an unpublication seen
/// at `seen` (a retry of the same one gets the same answer; a later repair is a new change).
pub fn publish_token(uid: &str, id: &str, revision: &str, seen: Option<&str>) -> String {
    format!("dzop-dpl-{:016x}", stable_hash(&format!("{uid}|{id}|{revision}|{}", seen.unwrap_or_default())))
}

#[cfg(test)]
mod tests;
