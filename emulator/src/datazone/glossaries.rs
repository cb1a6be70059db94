//! Business glossaries and their terms: Create/Get/UpdateGlossary, Create/Get/UpdateGlossaryTerm,
//! and their Search items (scopes GLOSSARY and GLOSSARY_TERM, in `search.rs`). A glossary belongs
//! to a project: only its members create or change it and its terms [inferred]; any caller that
//! may use the domain reads them [inferred].

use serde_json::{Value, json};

use super::request::{Ctx, check_enum, check_id, check_list, domain, ids_at, member_project, not_null, put_opt};
use crate::error::{AwsError, AwsResult};
use crate::state::{Domain, Glossary, GlossaryTerm, State};

const GLOSSARY_STATUSES: &[&str] = &["DISABLED", "ENABLED"];
const TERM_STATUSES: &[&str] = &["ENABLED", "DISABLED"];

/// Whether an answer carries who made and changed the object and when (Get and Search items do;
/// Create and Update answers do not, as the model has it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Written,
    Read,
}

pub fn glossary_json(g: &Glossary, shape: Shape) -> Value {
    let mut v = json!({
        "domainId": g.domain_id, "id": g.id, "name": g.name, "owningProjectId": g.project_id, "status": g.status,
    });
    put_opt(&mut v, "description", g.description.clone());
    if !g.usage_restrictions.is_empty() {
        v["usageRestrictions"] = json!(g.usage_restrictions);
    }
    if shape == Shape::Read {
        v["createdAt"] = g.created_at.epoch();
        v["createdBy"] = json!(g.created_by);
        v["updatedAt"] = g.updated_at.epoch();
        v["updatedBy"] = json!(g.updated_by);
    }
    v
}

pub fn term_json(t: &GlossaryTerm, glossary: Option<&Glossary>, shape: Shape) -> Value {
    let mut v = json!({
        "id": t.id, "domainId": t.domain_id, "glossaryId": t.glossary_id, "name": t.name, "status": t.status,
    });
    put_opt(&mut v, "shortDescription", t.short_description.clone());
    put_opt(&mut v, "longDescription", t.long_description.clone());
    // Each relation list has at least one item [model]: empty ones are left out.
    let mut relations = json!({});
    for (key, ids) in [("isA", &t.is_a), ("classifies", &t.classifies)] {
        if !ids.is_empty() {
            relations[key] = json!(ids);
        }
    }
    if relations.as_object().is_some_and(|r| !r.is_empty()) {
        v["termRelations"] = relations;
    }
    // A term is governed as its glossary is [inferred].
    if let Some(g) = glossary.filter(|g| !g.usage_restrictions.is_empty()) {
        v["usageRestrictions"] = json!(g.usage_restrictions);
    }
    if shape == Shape::Read {
        v["createdAt"] = t.created_at.epoch();
        v["createdBy"] = json!(t.created_by);
        v["updatedAt"] = t.updated_at.epoch();
        v["updatedBy"] = json!(t.updated_by);
    }
    v
}

fn usage_restrictions(ctx: &Ctx) -> AwsResult<Vec<String>> {
    let items = match ctx.body.get("usageRestrictions") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(AwsError::validation("usageRestrictions must be a list")),
    };
    check_list("usageRestrictions", items.len(), 1, 1)?;
    items
        .iter()
        .map(|i| {
            let s = i.as_str().unwrap_or_default();
            check_enum("usageRestrictions.1.member", s, &["ASSET_GOVERNED_TERMS"]).map(|_| s.to_string())
        })
        .collect()
}

/// `termRelations` as given: (isA, classifies), each 1..=10 term IDs when present.
type Relations = (Option<Vec<String>>, Option<Vec<String>>);

fn term_relations(ctx: &Ctx) -> AwsResult<Option<Relations>> {
    let Some(raw) = ctx.body.get("termRelations").filter(|v| !v.is_null()) else { return Ok(None) };
    let is_a = ids_at(raw.get("isA"), "termRelations.isA", 1, 10)?;
    let classifies = ids_at(raw.get("classifies"), "termRelations.classifies", 1, 10)?;
    Ok(Some((is_a, classifies)))
}

/// Related terms must be terms of the domain [inferred].
fn check_related(state: &State, domain_id: &str, ids: &[String]) -> AwsResult<()> {
    match ids.iter().find(|id| state.glossary_terms.get(*id).is_none_or(|t| t.domain_id != domain_id)) {
        Some(id) => {
            Err(AwsError::validation(format!("termRelations: glossary term {id} does not exist in this domain")))
        }
        None => Ok(()),
    }
}

/// The glossary `id` of the request's domain.
fn glossary_in<'s>(state: &'s State, d: &Domain, id: &str) -> AwsResult<&'s Glossary> {
    state
        .glossaries
        .get(id)
        .filter(|g| g.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Glossary {id} was not found")))
}

/// Glossary names are unique in the domain (ConflictException) [inferred from the model:
/// "The glossary name must be unique within the domain"].
pub fn create_glossary(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 256)?;
    let project_ref = ctx.required("owningProjectIdentifier", 1, 36)?;
    check_id("owningProjectIdentifier", &project_ref)?;
    let description = ctx.optional("description", 0, 4096)?;
    let status = ctx.optional_enum("status", GLOSSARY_STATUSES)?.unwrap_or("ENABLED");
    let usage = usage_restrictions(ctx)?;
    let token = ctx.checked_client_token()?;
    let d = domain(state, ctx)?;
    let project_id = member_project(d, &project_ref, ctx)?.id.clone();
    let domain_id = d.id.clone();
    let token_key = token.map(|t| ("CreateGlossary", ctx.caller.principal_arn.clone(), t));
    if let Some(g) = token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.glossaries.get(id))
    {
        return Ok((201, glossary_json(g, Shape::Written)));
    }
    if state.glossaries.values().any(|g| g.domain_id == domain_id && g.name == name) {
        return Err(AwsError::conflict(format!("A glossary named {name} already exists in this domain")));
    }
    let held = state.glossaries.values().filter(|g| g.domain_id == domain_id).count();
    super::quotas::domain_quota(held, state.lifecycle.glossaries_per_domain, &domain_id, "glossaries")?;
    let by = ctx.caller.principal_arn.clone();
    let g = Glossary {
        id: state.ids.id(),
        domain_id,
        project_id,
        name,
        description,
        status,
        usage_restrictions: usage,
        created_at: ctx.now,
        created_by: by.clone(),
        updated_at: ctx.now,
        updated_by: by,
    };
    let out = glossary_json(&g, Shape::Written);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, g.id.clone());
    }
    state.glossaries.insert(g.id.clone(), g);
    Ok((201, out))
}

pub fn get_glossary(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    check_id("identifier", ctx.param(1))?;
    let d = domain(state, ctx)?;
    Ok((200, glossary_json(glossary_in(state, d, ctx.param(1))?, Shape::Read)))
}

/// Changes what is given (name, description, status); the rest stays.
pub fn update_glossary(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1).to_string();
    check_id("identifier", &id)?;
    let name = ctx.optional("name", 1, 256)?;
    let description = ctx.optional("description", 0, 4096)?;
    let status = ctx.optional_enum("status", GLOSSARY_STATUSES)?;
    ctx.checked_client_token()?;
    let d = domain(state, ctx)?;
    let g = glossary_in(state, d, &id)?;
    member_project(d, &g.project_id, ctx)?;
    if let Some(n) = &name
        && state.glossaries.values().any(|o| o.domain_id == g.domain_id && &o.name == n && o.id != id)
    {
        return Err(AwsError::conflict(format!("A glossary named {n} already exists in this domain")));
    }
    let g = state.glossaries.get_mut(&id).ok_or_else(|| AwsError::internal("glossary vanished"))?;
    if let Some(n) = name {
        g.name = n;
    }
    if description.is_some() {
        g.description = description;
    }
    if let Some(s) = status {
        g.status = s;
    }
    g.updated_at = ctx.now;
    g.updated_by = ctx.caller.principal_arn.clone();
    Ok((200, glossary_json(g, Shape::Written)))
}

/// Term names are unique within their glossary (ConflictException) [model: "The term name must
/// be unique within the glossary"]; the glossary must exist (ResourceNotFoundException) and the
/// caller be a member of its project [inferred].
pub fn create_term(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let glossary_id = ctx.body_str("glossaryIdentifier").ok_or_else(|| not_null("glossaryIdentifier"))?.to_string();
    check_id("glossaryIdentifier", &glossary_id)?;
    let name = ctx.required("name", 1, 256)?;
    let status = ctx.optional_enum("status", TERM_STATUSES)?.unwrap_or("ENABLED");
    let short_description = ctx.optional("shortDescription", 0, 1024)?;
    let long_description = ctx.optional("longDescription", 0, 4096)?;
    let (is_a, classifies) = term_relations(ctx)?.unwrap_or_default();
    let token = ctx.checked_client_token()?;
    let d = domain(state, ctx)?;
    let g = glossary_in(state, d, &glossary_id)?;
    member_project(d, &g.project_id, ctx)?;
    let token_key = token.map(|t| ("CreateGlossaryTerm", ctx.caller.principal_arn.clone(), t));
    if let Some(t) =
        token_key.as_ref().and_then(|k| state.client_tokens.get(k)).and_then(|id| state.glossary_terms.get(id))
    {
        return Ok((201, term_json(t, Some(g), Shape::Written)));
    }
    if state.glossary_terms.values().any(|t| t.glossary_id == glossary_id && t.name == name) {
        return Err(AwsError::conflict(format!("A glossary term named {name} already exists in this glossary")));
    }
    let held = state.glossary_terms.values().filter(|t| t.domain_id == d.id).count();
    super::quotas::domain_quota(held, state.lifecycle.glossary_terms_per_domain, &d.id, "glossary terms")?;
    let (is_a, classifies) = (is_a.unwrap_or_default(), classifies.unwrap_or_default());
    check_related(state, &d.id, &is_a)?;
    check_related(state, &d.id, &classifies)?;
    let by = ctx.caller.principal_arn.clone();
    let t = GlossaryTerm {
        id: state.ids.id(),
        domain_id: d.id.clone(),
        glossary_id,
        name,
        short_description,
        long_description,
        status,
        is_a,
        classifies,
        created_at: ctx.now,
        created_by: by.clone(),
        updated_at: ctx.now,
        updated_by: by,
    };
    let out = term_json(&t, Some(g), Shape::Written);
    if let Some(key) = token_key {
        state.client_tokens.insert(key, t.id.clone());
    }
    state.glossary_terms.insert(t.id.clone(), t);
    Ok((201, out))
}

/// The term `id` of the request's domain, and the domain.
fn term_in<'s>(state: &'s State, ctx: &Ctx, id: &str) -> AwsResult<(&'s GlossaryTerm, &'s Domain)> {
    check_id("identifier", id)?;
    let d = domain(state, ctx)?;
    let t = state
        .glossary_terms
        .get(id)
        .filter(|t| t.domain_id == d.id)
        .ok_or_else(|| AwsError::not_found(format!("Glossary term {id} was not found")))?;
    Ok((t, d))
}

pub fn get_term(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let (t, _) = term_in(state, ctx, ctx.param(1))?;
    Ok((200, term_json(t, state.glossaries.get(&t.glossary_id), Shape::Read)))
}

/// Changes what is given (name, descriptions, relations, status); the rest stays. A term stays
/// in its glossary: another `glossaryIdentifier` is a ValidationException [inferred].
pub fn update_term(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let id = ctx.param(1).to_string();
    let glossary_ref = ctx.body_str("glossaryIdentifier").map(str::to_string);
    if let Some(g) = &glossary_ref {
        check_id("glossaryIdentifier", g)?;
    }
    let name = ctx.optional("name", 1, 256)?;
    let short_description = ctx.optional("shortDescription", 0, 1024)?;
    let long_description = ctx.optional("longDescription", 0, 4096)?;
    let relations = term_relations(ctx)?;
    let status = ctx.optional_enum("status", TERM_STATUSES)?;
    let (t, d) = term_in(state, ctx, &id)?;
    let g = state.glossaries.get(&t.glossary_id).ok_or_else(|| AwsError::internal("glossary vanished"))?;
    member_project(d, &g.project_id, ctx)?;
    if glossary_ref.as_ref().is_some_and(|r| r != &t.glossary_id) {
        return Err(AwsError::validation(
            "Moving a glossary term to another glossary is not supported by the emulator",
        ));
    }
    if let Some(n) = &name
        && state.glossary_terms.values().any(|o| o.glossary_id == t.glossary_id && &o.name == n && o.id != id)
    {
        return Err(AwsError::conflict(format!("A glossary term named {n} already exists in this glossary")));
    }
    if let Some((is_a, classifies)) = &relations {
        check_related(state, &d.id, is_a.as_deref().unwrap_or_default())?;
        check_related(state, &d.id, classifies.as_deref().unwrap_or_default())?;
    }
    let glossary = g.clone();
    let t = state.glossary_terms.get_mut(&id).ok_or_else(|| AwsError::internal("term vanished"))?;
    if let Some(n) = name {
        t.name = n;
    }
    if short_description.is_some() {
        t.short_description = short_description;
    }
    if long_description.is_some() {
        t.long_description = long_description;
    }
    if let Some((is_a, classifies)) = relations {
        t.is_a = is_a.unwrap_or_default();
        t.classifies = classifies.unwrap_or_default();
    }
    if let Some(s) = status {
        t.status = s;
    }
    t.updated_at = ctx.now;
    t.updated_by = ctx.caller.principal_arn.clone();
    Ok((200, term_json(t, Some(&glossary), Shape::Written)))
}

/// Glossary terms an asset or a data product may carry: existing, ENABLED terms of ENABLED glossaries of the
/// domain, each once [inferred]; the problem names the term.
pub fn check_terms(state: &State, domain_id: &str, terms: &[String]) -> AwsResult<()> {
    for (i, t) in terms.iter().enumerate() {
        if terms[..i].contains(t) {
            return Err(AwsError::validation(format!("glossaryTerms: glossary term {t} is given more than once")));
        }
        let usable = state.glossary_terms.get(t).filter(|term| term.domain_id == domain_id).is_some_and(|term| {
            term.status == "ENABLED" && state.glossaries.get(&term.glossary_id).is_some_and(|g| g.status == "ENABLED")
        });
        if !usable {
            return Err(AwsError::validation(format!(
                "Glossary term {t} does not exist in this domain or is not ENABLED"
            )));
        }
    }
    Ok(())
}
