//! Metadata forms as requests give them (`FormInput`: CreateDataSource's and UpdateDataSource's
//! `assetFormsInput`, CreateAssetRevision's `formsInput`) and as answers carry them
//! (`FormOutput`). A form names its type by `typeIdentifier` (the type's name), at
//! `typeRevision` or the type's latest, and its `content` (a JSON object as a string) must fit
//! the type's model ([`super::smithy::check`]).

use serde_json::{Value, json};

use super::form_types::{FORM_TYPE_IDENTIFIER, Unresolved, resolve};
use super::request::{check_length, check_list, check_pattern, matches, not_null};
use crate::error::{AwsError, AwsResult};
use crate::state::{Form, State};

/// The model's `FormName`, read anchored and without the look-ahead (as the operator's CRD
/// reads it): a letter first, or `_` and then at least one letter or digit.
pub const FORM_NAME: &str = r"^([A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_]*[A-Za-z0-9][A-Za-z0-9_]*)$";

/// A form (or technical form) an asset revision holds at most: FormOutputList has at most 10
/// [model], the technical form among them [inferred].
pub const MAX_FORMS: usize = 10;

/// One `FormInput`, its shape checked; `at` is its path for messages (`formsInput.1.member`).
#[derive(Clone, Debug)]
pub struct FormInput {
    pub at: String,
    pub name: String,
    pub type_identifier: Option<String>,
    pub type_revision: Option<String>,
    /// Absent content is an empty object [inferred].
    pub content: String,
}

fn string_at(raw: &Value, key: &str, at: &str) -> AwsResult<Option<String>> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AwsError::validation(format!("{at}.{key} must be a string"))),
    }
}

/// The list `member` of the body as FormInputList (0..=10 FormInput) when present: lengths and
/// patterns of each member, as the model has them.
pub fn parse_inputs(body: &Value, member: &str) -> AwsResult<Option<Vec<FormInput>>> {
    let items = match body.get(member) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(AwsError::validation(format!("{member} must be a list"))),
    };
    check_list(member, items.len(), 0, 10)?;
    let mut forms: Vec<FormInput> = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let at = format!("{member}.{}.member", i + 1);
        let name = string_at(raw, "formName", &at)?.ok_or_else(|| not_null(&format!("{at}.formName")))?;
        check_length(&format!("{at}.formName"), &name, 1, 128)?;
        check_pattern(&format!("{at}.formName"), &name, matches(FORM_NAME, &name), FORM_NAME)?;
        let type_identifier = string_at(raw, "typeIdentifier", &at)?;
        if let Some(t) = &type_identifier {
            let m = format!("{at}.typeIdentifier");
            check_length(&m, t, 1, 385)?;
            check_pattern(&m, t, matches(FORM_TYPE_IDENTIFIER, t), FORM_TYPE_IDENTIFIER)?;
        }
        let type_revision = string_at(raw, "typeRevision", &at)?;
        if let Some(r) = &type_revision {
            let m = format!("{at}.typeRevision");
            check_length(&m, r, 1, 64)?;
            check_pattern(&m, r, matches("^[a-zA-Z0-9_-]+$", r), "^[a-zA-Z0-9_-]+$")?;
        }
        let content = string_at(raw, "content", &at)?;
        if let Some(c) = &content {
            // A length check that does not echo 300,000 characters.
            if c.chars().count() > 300_000 {
                return Err(AwsError::validation(format!(
                    "1 validation error detected: Value at '{at}.content' failed to satisfy constraint: Member must have length less than or equal to 300000"
                )));
            }
        }
        // Two forms of one name on one asset [inferred: refused].
        if forms.iter().any(|f| f.name == name) {
            return Err(AwsError::validation(format!("{member}: form {name} is given more than once")));
        }
        forms.push(FormInput {
            at,
            name,
            type_identifier,
            type_revision,
            content: content.unwrap_or_else(|| "{}".into()),
        })
    }
    Ok(Some(forms))
}

/// The forms `inputs` make in the domain: each of an existing, ENABLED form type (a form without
/// `typeIdentifier` takes the type of the form of its name in `current`, else it is refused
/// [inferred]) whose model its content fits. Problems are ValidationExceptions naming the form.
pub fn resolve_inputs(state: &State, domain_id: &str, inputs: &[FormInput], current: &[Form]) -> AwsResult<Vec<Form>> {
    inputs.iter().map(|input| resolve_input(state, domain_id, input, current)).collect()
}

fn resolve_input(state: &State, domain_id: &str, input: &FormInput, current: &[Form]) -> AwsResult<Form> {
    let name = &input.name;
    let type_identifier = match (&input.type_identifier, current.iter().find(|f| &f.name == name)) {
        (Some(t), _) => t.clone(),
        (None, Some(existing)) => existing.type_name.clone(),
        (None, None) => {
            return Err(AwsError::validation(format!(
                "Form {name} ({}): typeIdentifier is required for a form the asset does not have yet",
                input.at
            )));
        }
    };
    let resolved = resolve(state, domain_id, &type_identifier, input.type_revision.as_deref()).map_err(|e| {
        AwsError::validation(match e {
            Unresolved::NoType => format!("Form {name}: form type {type_identifier} does not exist in this domain"),
            Unresolved::NoRevision => format!(
                "Form {name}: form type {type_identifier} has no revision {}",
                input.type_revision.as_deref().unwrap_or_default()
            ),
        })
    })?;
    if !resolved.enabled {
        return Err(AwsError::validation(format!(
            "Form {name}: form type {type_identifier} revision {} is DISABLED",
            resolved.revision
        )));
    }
    super::smithy::check(&resolved.model, &input.content).map_err(|problem| {
        AwsError::validation(format!(
            "Form {name} (form type {} revision {}): {problem}",
            resolved.name, resolved.revision
        ))
    })?;
    Ok(Form {
        name: name.clone(),
        type_name: resolved.name,
        type_revision: resolved.revision.to_string(),
        content: input.content.clone(),
    })
}

/// A FormOutputList.
pub fn forms_json(forms: &[Form]) -> Value {
    forms
        .iter()
        .map(|f| json!({"formName": f.name, "typeName": f.type_name, "typeRevision": f.type_revision, "content": f.content}))
        .collect()
}
