//! The little of Smithy IDL a form type's model needs here: one `structure` whose members have
//! simple types, and the `@required` trait. That is enough to check a form's `content` against
//! its type, which DataZone does ("The form content must include all required fields" [model:
//! CreateAssetRevision]) in ways it does not document further; what is checked beyond required
//! members (unknown members, JSON types) is [inferred]. Other traits (`@documentation`,
//! `@amazon.datazone#searchable`, …), `$version`, `namespace` and `use` are read past.

use serde_json::Value;

/// A member's type, and the JSON values its content takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Long,
    Double,
    Boolean,
    /// Epoch seconds or an ISO-8601 string [inferred].
    Timestamp,
}

impl Kind {
    fn parse(name: &str) -> Option<Self> {
        Some(match name.strip_prefix("smithy.api#").unwrap_or(name) {
            "String" => Kind::String,
            "Integer" => Kind::Integer,
            "Long" => Kind::Long,
            "Double" => Kind::Double,
            "Boolean" => Kind::Boolean,
            "Timestamp" => Kind::Timestamp,
            _ => return None,
        })
    }

    fn accepts(self, v: &Value) -> bool {
        match self {
            Kind::String => v.is_string(),
            Kind::Integer => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Kind::Long => v.is_i64(),
            Kind::Double => v.is_number(),
            Kind::Boolean => v.is_boolean(),
            Kind::Timestamp => v.is_number() || v.as_str().is_some_and(|s| s.parse::<jiff::Timestamp>().is_ok()),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::String => "a String (a JSON string)",
            Kind::Integer => "an Integer (a 32-bit JSON integer)",
            Kind::Long => "a Long (a JSON integer)",
            Kind::Double => "a Double (a JSON number)",
            Kind::Boolean => "a Boolean (true or false)",
            Kind::Timestamp => "a Timestamp (epoch seconds or an ISO-8601 string)",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
}

/// A form type's model: its structure's members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormModel {
    pub structure: String,
    pub members: Vec<Member>,
    /// Content may carry members the model does not declare: the built-in types, whose full
    /// models the emulator does not have.
    pub open: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A name: identifiers, shape IDs (`smithy.api#String`), `$version`.
    Word(String),
    /// A trait by name (`required`, `amazon.datazone#searchable`); its arguments are skipped.
    Trait(String),
    Text,
    Punct(char),
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '#' | '$')
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Skips a string starting at `i` (a `"` or `"""`); answers the index after it.
    let skip_string = |i: usize| -> Result<usize, String> {
        let triple = chars.get(i..i + 3) == Some(&['"', '"', '"']);
        let mut j = i + if triple { 3 } else { 1 };
        while j < chars.len() {
            match chars[j] {
                '\\' => j += 2,
                '"' if !triple => return Ok(j + 1),
                '"' if chars.get(j..j + 3) == Some(&['"', '"', '"']) => return Ok(j + 3),
                _ => j += 1,
            }
        }
        Err("a string is not closed".into())
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ',' {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' {
            i = skip_string(i)?;
            out.push(Token::Text);
        } else if c == '@' {
            let start = i + 1;
            i = start;
            while i < chars.len() && is_word(chars[i]) {
                i += 1;
            }
            if i == start {
                return Err("a trait has no name".into());
            }
            out.push(Token::Trait(chars[start..i].iter().collect()));
            // The trait's arguments, with nested parentheses and strings.
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if chars.get(j) == Some(&'(') {
                let mut depth = 0;
                loop {
                    match chars.get(j) {
                        None => return Err("a trait's arguments are not closed".into()),
                        Some('"') => {
                            j = skip_string(j)?;
                            continue;
                        }
                        Some('(') => depth += 1,
                        Some(')') => {
                            depth -= 1;
                            if depth == 0 {
                                j += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                i = j;
            }
        } else if is_word(c) {
            let start = i;
            while i < chars.len() && is_word(chars[i]) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    Ok(out)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads a form type's model: exactly one `structure` whose members are `name: Type` with Type
/// one of String, Integer, Long, Double, Boolean, Timestamp, each optionally `@required`.
pub fn parse(text: &str) -> Result<FormModel, String> {
    let tokens = tokens(text)?;
    let mut it = tokens.into_iter().peekable();
    let mut model: Option<FormModel> = None;
    while let Some(token) = it.next() {
        match token {
            Token::Trait(_) => {}
            // `$version: "2"`
            Token::Word(w) if w.starts_with('$') => match (it.next(), it.next()) {
                (Some(Token::Punct(':')), Some(Token::Text | Token::Word(_))) => {}
                _ => return Err(format!("{w} must be followed by `: value`")),
            },
            Token::Word(w) if w == "namespace" || w == "use" => match it.next() {
                Some(Token::Word(_)) => {}
                _ => return Err(format!("`{w}` must be followed by a name")),
            },
            Token::Word(w) if w == "structure" => {
                if model.is_some() {
                    return Err("the model has more than one structure; a form type has exactly one".into());
                }
                let name = match it.next() {
                    Some(Token::Word(n)) if is_identifier(&n) => n,
                    _ => return Err("`structure` must be followed by the structure's name".into()),
                };
                if it.next() != Some(Token::Punct('{')) {
                    return Err(format!("structure {name}: `{{` expected after its name"));
                }
                let mut members: Vec<Member> = Vec::new();
                let mut required = false;
                loop {
                    match it.next() {
                        Some(Token::Punct('}')) => break,
                        Some(Token::Trait(t)) => required |= t == "required" || t == "smithy.api#required",
                        Some(Token::Word(member)) if is_identifier(&member) => {
                            if it.next() != Some(Token::Punct(':')) {
                                return Err(format!("member {member}: `:` and a type expected"));
                            }
                            let kind = match it.next() {
                                Some(Token::Word(t)) => Kind::parse(&t).ok_or_else(|| {
                                    format!(
                                        "member {member}: type {t} is not supported (String, Integer, Long, Double, Boolean, Timestamp)"
                                    )
                                })?,
                                _ => return Err(format!("member {member}: a type expected after `:`")),
                            };
                            if it.peek() == Some(&Token::Punct('=')) {
                                return Err(format!("member {member}: default values are not supported"));
                            }
                            if members.iter().any(|m| m.name == member) {
                                return Err(format!("member {member} is declared twice"));
                            }
                            members.push(Member { name: member, kind, required });
                            required = false;
                        }
                        Some(other) => return Err(format!("structure {name}: unexpected {other:?}")),
                        None => return Err(format!("structure {name} is not closed")),
                    }
                }
                model = Some(FormModel { structure: name, members, open: false });
            }
            Token::Word(w) => {
                return Err(format!("`{w}`: only a structure is supported in a form type's model"));
            }
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    model.ok_or_else(|| "the model has no structure".into())
}

/// Checks a form's content against its model: a JSON object with every required member, no
/// member the model lacks (unless it is open), and each value of its member's type (a `null`
/// counts as absent). The problem names the member.
pub fn check(model: &FormModel, content: &str) -> Result<(), String> {
    let value: Value =
        serde_json::from_str(content).map_err(|e| format!("content is not JSON ({e}); it must be a JSON object"))?;
    let object = value.as_object().ok_or("content must be a JSON object")?;
    for m in model.members.iter().filter(|m| m.required) {
        if object.get(&m.name).is_none_or(Value::is_null) {
            return Err(format!("member {} is required by {}", m.name, model.structure));
        }
    }
    for (key, v) in object {
        match model.members.iter().find(|m| &m.name == key) {
            Some(m) if !v.is_null() && !m.kind.accepts(v) => {
                return Err(format!("member {key} must be {}, got {v}", m.kind.expected()));
            }
            Some(_) => {}
            None if model.open => {}
            None => return Err(format!("member {key} is not a member of {}", model.structure)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNERSHIP: &str = r#"
        $version: "2"
        namespace com.example
        /// Who answers for the data.
        @amazon.datazone#formType
        structure Ownership {
            @required
            @amazon.datazone#searchable(modes: ["LEXICAL"])
            owner: String,
            @documentation("a (nested) \"quote\" }")
            since: Timestamp
            tier: Integer
            rows: smithy.api#Long
            score: Double
            pii: Boolean
        }
    "#;

    #[test]
    fn reads_one_structure_and_its_required_members() {
        let model = parse(OWNERSHIP).unwrap();
        assert_eq!(model.structure, "Ownership");
        let members: Vec<(&str, Kind, bool)> =
            model.members.iter().map(|m| (m.name.as_str(), m.kind, m.required)).collect();
        assert_eq!(
            members,
            [
                ("owner", Kind::String, true),
                ("since", Kind::Timestamp, false),
                ("tier", Kind::Integer, false),
                ("rows", Kind::Long, false),
                ("score", Kind::Double, false),
                ("pii", Kind::Boolean, false),
            ]
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for (text, problem) in [
            ("", "no structure"),
            ("structure A { a: String } structure B { b: String }", "more than one structure"),
            ("structure A { a: Blob }", "type Blob is not supported"),
            ("structure A { a String }", "member a"),
            ("structure A { a: String", "not closed"),
            ("list L { member: String }", "only a structure"),
            ("structure A { a: String = \"x\" }", "default values"),
            ("structure A { a: String a: Integer }", "declared twice"),
            ("structure A { @documentation(\"x\" a: String }", "not closed"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(problem), "{text:?}: {err}");
        }
    }

    #[test]
    fn content_must_fit_the_model() {
        let model = parse(OWNERSHIP).unwrap();
        assert!(check(&model, r#"{"owner": "team-a", "tier": 2, "since": "2025-01-01T00:00:00Z"}"#).is_ok());
        assert!(check(&model, r#"{"owner": "team-a", "since": 1.7e9, "pii": null}"#).is_ok());
        for (content, problem) in [
            ("[1]", "must be a JSON object"),
            ("not json", "is not JSON"),
            (r#"{"tier": 1}"#, "member owner is required"),
            (r#"{"owner": null}"#, "member owner is required"),
            (r#"{"owner": "a", "colour": "red"}"#, "member colour is not a member of Ownership"),
            (r#"{"owner": 5}"#, "member owner must be a String"),
            (r#"{"owner": "a", "tier": 3000000000}"#, "member tier must be an Integer"),
            (r#"{"owner": "a", "rows": 1.5}"#, "member rows must be a Long"),
            (r#"{"owner": "a", "since": "yesterday"}"#, "member since must be a Timestamp"),
            (r#"{"owner": "a", "pii": "yes"}"#, "member pii must be a Boolean"),
        ] {
            let err = check(&model, content).unwrap_err();
            assert!(err.contains(problem), "{content}: {err}");
        }
        let open = FormModel { open: true, ..model };
        assert!(check(&open, r#"{"owner": "a", "colour": "red"}"#).is_ok());
    }
}
