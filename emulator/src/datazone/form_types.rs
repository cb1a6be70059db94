//! Metadata form types: CreateFormType, GetFormType, and the lookup forms are checked with.
//! Every domain also knows the built-in types of the technical forms the emulator writes on
//! Redshift assets (`amazon.datazone.RedshiftTableFormType`, `…RedshiftViewFormType`).

use std::sync::LazyLock;

use serde_json::{Value, json};

use super::request::{Ctx, check_id, check_length, check_pattern, domain, matches, member_project, not_null, put_opt};
use super::smithy::{self, FormModel};
use crate::clock::Instant;
use crate::error::{AwsError, AwsResult};
use crate::state::{FormType, FormTypeRevision, State};

pub use crate::patterns::{FORM_TYPE_IDENTIFIER, FORM_TYPE_NAME};

/// The built-in types the emulator writes on assets, with the asset types they belong to. Their
/// models name what the emulator writes; DataZone's full models have more members, so content is
/// checked only for the members named here ([`FormModel::open`]) [inferred].
const BUILT_IN: [(&str, &str, &str); 2] = [
    (
        "amazon.datazone.RedshiftTableFormType",
        "amazon.datazone.RedshiftTableAssetType",
        "@amazon.datazone#formType\nstructure RedshiftTableFormType {\n    @required\n    databaseName: String\n    @required\n    schemaName: String\n    @required\n    tableName: String\n}\n",
    ),
    (
        "amazon.datazone.RedshiftViewFormType",
        "amazon.datazone.RedshiftViewAssetType",
        "@amazon.datazone#formType\nstructure RedshiftViewFormType {\n    @required\n    databaseName: String\n    @required\n    schemaName: String\n    @required\n    tableName: String\n}\n",
    ),
];

static BUILT_IN_MODELS: LazyLock<Vec<FormModel>> = LazyLock::new(|| {
    BUILT_IN
        .iter()
        .map(|(_, _, text)| FormModel { open: true, ..smithy::parse(text).expect("the built-in models parse") })
        .collect()
});

/// Whether a name belongs to a built-in form or asset type.
fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(form, asset, _)| *form == name || *asset == name)
}

/// A form type revision as forms are checked against it.
pub struct Resolved {
    pub name: String,
    pub revision: u32,
    pub model: FormModel,
    pub enabled: bool,
}

/// Why a form type could not be resolved.
pub enum Unresolved {
    NoType,
    NoRevision,
}

/// The form type `identifier` (its name) of the domain, at `revision` or its latest.
pub fn resolve(
    state: &State,
    domain_id: &str,
    identifier: &str,
    revision: Option<&str>,
) -> Result<Resolved, Unresolved> {
    if let Some(i) = BUILT_IN.iter().position(|(form, _, _)| *form == identifier) {
        // Built-in types are at revision 1.
        return match revision {
            None | Some("1") => {
                Ok(Resolved { name: identifier.into(), revision: 1, model: BUILT_IN_MODELS[i].clone(), enabled: true })
            }
            Some(_) => Err(Unresolved::NoRevision),
        };
    }
    let ft = state.form_types.get(&(domain_id.to_string(), identifier.to_string())).ok_or(Unresolved::NoType)?;
    let number = match revision {
        None => ft.revisions.len() as u32,
        Some(r) => r
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=ft.revisions.len() as u32).contains(n))
            .ok_or(Unresolved::NoRevision)?,
    };
    let r = &ft.revisions[number as usize - 1];
    Ok(Resolved { name: ft.name.clone(), revision: number, model: r.model.clone(), enabled: r.status == "ENABLED" })
}

/// The revision a CreateFormType of `smithy` makes (or finds) for an existing type: the same
/// model as the latest revision gives that revision back, another model a new revision
/// [inferred: DataZone documents revisions, not how they are made].
fn same_as_latest(ft: &FormType, smithy: &str) -> Option<u32> {
    ft.revisions.last().filter(|r| r.smithy.trim() == smithy.trim()).map(|_| ft.revisions.len() as u32)
}

/// Adds a form type (or its next revision) as made by `created_by`; answers its revision. The
/// caller has checked the name, the model and the project.
#[allow(clippy::too_many_arguments)]
pub fn put(
    state: &mut State,
    domain_id: &str,
    name: &str,
    project_id: &str,
    smithy: String,
    model: FormModel,
    status: &'static str,
    description: Option<String>,
    created_by: &str,
    now: Instant,
) -> u32 {
    let revision =
        FormTypeRevision { smithy, model, status, description, created_at: now, created_by: created_by.to_string() };
    state.put_form_type(domain_id, name, project_id, revision)
}

/// `model`: a union with its only member `smithy` (1..=100,000 characters).
fn smithy_of(ctx: &Ctx) -> AwsResult<String> {
    let model = ctx.body.get("model").filter(|m| !m.is_null()).ok_or_else(|| not_null("model"))?;
    let members = model.as_object().ok_or_else(|| AwsError::validation("model must be a structure"))?;
    if members.len() != 1 {
        return Err(AwsError::validation("model must set exactly one member: smithy"));
    }
    let smithy = members.get("smithy").and_then(Value::as_str).ok_or_else(|| not_null("model.smithy"))?;
    check_length("model.smithy", smithy, 1, 100_000)?;
    Ok(smithy.to_string())
}

/// Creates a form type in the caller's project, or a new revision of it. A form type keeps its
/// owning project: another project's CreateFormType of the name is a ConflictException (the
/// model: "The name must be unique within the domain") [inferred].
pub fn create(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 128)?;
    check_pattern("name", &name, matches(FORM_TYPE_NAME, &name), FORM_TYPE_NAME)?;
    let smithy = smithy_of(ctx)?;
    let project_ref = ctx.required("owningProjectIdentifier", 1, 36)?;
    check_id("owningProjectIdentifier", &project_ref)?;
    let status = ctx.optional_enum("status", &["ENABLED", "DISABLED"])?.unwrap_or("ENABLED");
    let description = ctx.optional("description", 0, 2048)?;
    // DataZone's own types are not made by callers [inferred].
    if name.starts_with("amazon.datazone.") || is_built_in(&name) {
        return Err(AwsError::validation(format!(
            "Form type names starting with amazon.datazone. are reserved: {name}"
        )));
    }
    let model = smithy::parse(&smithy)
        .map_err(|problem| AwsError::validation(format!("The model of form type {name} is not valid: {problem}")))?;
    let d = domain(state, ctx)?;
    let project_id = member_project(d, &project_ref, ctx)?.id.clone();
    let domain_id = d.id.clone();
    let key = (domain_id.clone(), name.clone());
    let existing = state.form_types.get(&key);
    if let Some(ft) = existing.filter(|ft| ft.project_id != project_id) {
        return Err(AwsError::conflict(format!(
            "A form type named {name} already exists in this domain, owned by project {}",
            ft.project_id
        )));
    }
    let revision = match existing.and_then(|ft| same_as_latest(ft, &smithy)) {
        Some(revision) => revision,
        None => put(
            state,
            &domain_id,
            &name,
            &project_id,
            smithy,
            model,
            status,
            description,
            &ctx.caller.principal_arn,
            ctx.now,
        ),
    };
    let r = &state.form_types[&key].revisions[revision as usize - 1];
    let mut out =
        json!({"domainId": domain_id, "name": name, "revision": revision.to_string(), "owningProjectId": project_id});
    put_opt(&mut out, "description", r.description.clone());
    Ok((201, out))
}

/// Any caller that may use the domain reads its form types [inferred].
pub fn get(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let identifier = ctx.param(1);
    check_length("formTypeIdentifier", identifier, 1, 385)?;
    check_pattern("formTypeIdentifier", identifier, matches(FORM_TYPE_IDENTIFIER, identifier), FORM_TYPE_IDENTIFIER)?;
    let revision = ctx.query("revision");
    if let Some(r) = revision {
        check_length("revision", r, 1, 64)?;
    }
    let d = domain(state, ctx)?;
    let missing = || AwsError::not_found(format!("Form type {identifier} was not found"));
    if let Some((form, _, text)) = BUILT_IN.iter().find(|(form, _, _)| *form == identifier) {
        if revision.is_some_and(|r| r != "1") {
            return Err(missing());
        }
        let out = json!({
            "domainId": d.id, "name": form, "revision": "1", "model": {"smithy": text}, "status": "ENABLED",
            "createdAt": d.created_at.epoch(), "createdBy": "amazon.datazone",
        });
        return Ok((200, out));
    }
    let ft = state.form_types.get(&(d.id.clone(), identifier.to_string())).ok_or_else(missing)?;
    let number = match revision {
        None => ft.revisions.len(),
        Some(r) => r.parse::<usize>().ok().filter(|n| (1..=ft.revisions.len()).contains(n)).ok_or_else(missing)?,
    };
    let r = &ft.revisions[number - 1];
    let mut out = json!({
        "domainId": d.id, "name": ft.name, "revision": number.to_string(), "model": {"smithy": r.smithy},
        "owningProjectId": ft.project_id, "status": r.status, "createdAt": r.created_at.epoch(), "createdBy": r.created_by,
    });
    put_opt(&mut out, "description", r.description.clone());
    Ok((200, out))
}
