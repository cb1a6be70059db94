//! Domains (V1 and V2), projects and project memberships.

use serde_json::{Value, json};

use super::request::{
    Ctx, check_enum, check_id, check_name64, domain, domain_mut, is_domain_admin, items_page, member_project, page,
    put_opt, require_version,
};
use crate::error::{AwsError, AwsResult};
use crate::state::{Domain, DomainVersion, Project, State};

const DESIGNATIONS: &[&str] = &[
    "PROJECT_OWNER",
    "PROJECT_CONTRIBUTOR",
    "PROJECT_CATALOG_VIEWER",
    "PROJECT_CATALOG_CONSUMER",
    "PROJECT_CATALOG_STEWARD",
];

/// Which operation's output a domain is rendered for: their members differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DomainShape {
    Create,
    Get,
    Summary,
}

fn domain_json(d: &Domain, shape: DomainShape) -> Value {
    let mut v = json!({
        "id": d.id, "name": d.name, "arn": d.arn(), "status": "AVAILABLE", "portalUrl": d.portal_url(),
        "domainVersion": d.version.as_str(),
    });
    put_opt(&mut v, "description", d.description.clone());
    // GetDomain / ListDomains timestamps are epoch seconds in the model; CreateDomain has none.
    if shape != DomainShape::Create {
        v["createdAt"] = d.created_at.epoch();
        v["lastUpdatedAt"] = d.created_at.epoch();
    }
    match shape {
        // managedAccountId is a DomainSummary member only (required there).
        DomainShape::Summary => v["managedAccountId"] = json!(d.account),
        DomainShape::Create | DomainShape::Get => {
            v["rootDomainUnitId"] = json!(d.root_domain_unit_id);
            v["domainExecutionRole"] = json!(format!("arn:aws:iam::{}:role/AmazonDataZoneDomainExecution", d.account));
        }
    }
    v
}

pub fn create_domain(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 256)?;
    let description = ctx.optional("description", 0, 2048)?;
    let version = match ctx.body_str("domainVersion") {
        None => DomainVersion::V1,
        Some(v) => {
            check_enum("domainVersion", v, &["V1", "V2"])?;
            DomainVersion::parse(v).unwrap_or(DomainVersion::V1)
        }
    };
    let account = &ctx.caller.account;
    if state.domains.values().any(|d| &d.account == account && d.name == name) {
        return Err(AwsError::conflict("Domain name already exists under this account"));
    }
    let id = format!("dzd_{}", state.ids.id());
    let mut domain = state.new_domain(id.clone(), name, account.clone(), ctx.caller.region.clone(), version, ctx.now);
    domain.description = description;
    let out = domain_json(&domain, DomainShape::Create);
    state.domains.insert(id, domain);
    Ok((201, out))
}

pub fn get_domain(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    Ok((200, domain_json(d, DomainShape::Get)))
}

pub fn list_domains(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let account = &ctx.caller.account;
    let visible: Vec<Value> = state
        .domains
        .values()
        .filter(|d| &d.account == account || d.associated.contains(account))
        .filter(|_| ctx.query("status").is_none_or(|s| s == "AVAILABLE"))
        .map(|d| domain_json(d, DomainShape::Summary))
        .collect();
    let (items, token) = page(visible, ctx, 25, ctx.query("status").unwrap_or_default())?;
    Ok((200, items_page(items, token)))
}

fn project_json(d: &Domain, p: &Project, summary: bool) -> Value {
    let mut v = json!({
        "domainId": d.id, "id": p.id, "name": p.name, "projectStatus": "ACTIVE",
        "createdBy": p.created_by, "createdAt": p.created_at.iso(),
    });
    // ProjectSummary says updatedAt, GetProject says lastUpdatedAt.
    v[if summary { "updatedAt" } else { "lastUpdatedAt" }] = p.created_at.iso();
    put_opt(&mut v, "description", p.description.clone());
    if !summary {
        // ProjectSummary has no projectProfileId.
        put_opt(&mut v, "projectProfileId", d.project_profiles.get(&p.id).cloned());
    }
    v
}

/// In a V2 domain the project gets a project profile (the one named, or a generated one) and
/// its Tooling environment, in the domain's account.
pub fn create_project(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let name = ctx.required("name", 1, 64)?;
    check_name64("name", &name)?;
    let description = ctx.optional("description", 0, 2048)?;
    let profile = ctx.optional("projectProfileId", 1, 36)?;
    if let Some(p) = &profile {
        check_id("projectProfileId", p)?;
    }
    let id = state.ids.id();
    let d = domain(state, ctx)?;
    if profile.is_some() {
        // [inferred] wording: project profiles are a V2 concept.
        require_version(d, DomainVersion::V2, "projectProfileId is only valid for V2 domains")?;
    }
    if d.projects.values().any(|p| p.name == name) {
        return Err(AwsError::conflict(format!("A project with the name {name} already exists in this domain")));
    }
    let tooling = (d.version == DomainVersion::V2)
        .then(|| state.project_environment(d, &id, d.account.clone(), ctx.caller.principal_arn.clone(), ctx.now));
    let profile = (d.version == DomainVersion::V2).then(|| profile.unwrap_or_else(|| state.ids.id()));
    let mut members = std::collections::BTreeMap::new();
    members.insert(ctx.caller.principal_arn.clone(), "PROJECT_OWNER".to_string());
    let project = Project {
        id: id.clone(),
        name,
        description,
        created_by: ctx.caller.principal_arn.clone(),
        created_at: ctx.now,
        members,
    };
    let d = domain_mut(state, ctx)?;
    if let Some(profile) = profile {
        d.project_profiles.insert(id.clone(), profile);
    }
    let out = project_json(d, &project, false);
    d.projects.insert(id, project);
    if let Some(env) = tooling {
        state.environments.insert(env.id.clone(), env);
    }
    Ok((201, out))
}

pub fn get_project(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let p = d
        .projects
        .get(ctx.param(1))
        .ok_or_else(|| AwsError::not_found(format!("Project {} was not found", ctx.param(1))))?;
    Ok((200, project_json(d, p, false)))
}

pub fn list_projects(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let name = ctx.query("name");
    let projects: Vec<Value> =
        d.projects.values().filter(|p| name.is_none_or(|n| p.name == n)).map(|p| project_json(d, p, true)).collect();
    let (items, token) = page(projects, ctx, 50, name.unwrap_or_default())?;
    Ok((200, items_page(items, token)))
}

pub fn create_project_membership(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let designation = ctx.required("designation", 1, 64)?;
    check_enum("designation", &designation, DESIGNATIONS)?;
    let member = ctx
        .body
        .get("member")
        .and_then(|m| m.get("userIdentifier").or_else(|| m.get("groupIdentifier")))
        .and_then(Value::as_str)
        .ok_or_else(|| AwsError::validation("member must name a userIdentifier or groupIdentifier"))?
        .to_string();
    let caller = ctx.caller;
    let d = domain_mut(state, ctx)?;
    let admin = is_domain_admin(d, caller);
    let project_id = member_project(d, ctx.param(1), ctx)?.id.clone();
    let project = d.projects.get_mut(&project_id).ok_or_else(|| AwsError::internal("project vanished"))?;
    let owner = project.members.get(&caller.principal_arn).is_some_and(|des| des == "PROJECT_OWNER");
    if !admin && !owner {
        return Err(AwsError::access_denied(ctx.op));
    }
    project.members.insert(member, designation);
    Ok((201, json!({})))
}

pub fn list_project_memberships(state: &mut State, ctx: &Ctx) -> AwsResult<(u16, Value)> {
    let d = domain(state, ctx)?;
    let project = member_project(d, ctx.param(1), ctx)?;
    let members: Vec<Value> = project
        .members
        .iter()
        .map(|(who, designation)| json!({"memberDetails": {"user": {"userId": who}}, "designation": designation}))
        .collect();
    let (items, token) = page(members, ctx, 50, "")?;
    let mut out = json!({ "members": items });
    put_opt(&mut out, "nextToken", token);
    Ok((200, out))
}
