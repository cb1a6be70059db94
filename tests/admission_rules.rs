//! Every CEL admission rule of the three CRDs, evaluated offline with kube's CEL validator against
//! the generated schema: one valid object that passes, and per rule an object that breaks it and
//! gets the rule's message. (OpenAPI patterns, enums and list uniqueness are enforced by the API
//! server and checked end to end against a real one.)

use datazone_operator::crd::{
    ClusterDataZoneConnection, DataZoneConnection, DataZoneSubscription, RedshiftDataProduct,
};
use kube::CustomResourceExt;
use kube::core::cel::Validator;
use serde_json::{Value, json};

fn schema_of(
    crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> Value {
    let schema = crd.spec.versions[0].schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref()).unwrap();
    serde_json::to_value(schema).unwrap()
}

/// The messages of every rule `object` breaks (on create, or on update from `old`).
fn violations(schema: &Value, object: &Value, old: Option<&Value>) -> Vec<String> {
    match Validator::new().validate(schema, object, old) {
        Ok(()) => vec![],
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn product() -> Value {
    json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "RedshiftDataProduct",
        "metadata": {"name": "sales-orders", "namespace": "team-sales"},
        "spec": {
            "connectionRef": {"kind": "DataZoneConnection", "name": "central"},
            "project": "sales",
            "redshift": {"clusterName": "prod-dwh", "database": "sales",
                         "credentialsSecretArn": "arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf"},
            "schemas": [{"name": "public", "tables": ["orders"], "views": ["v_orders"]}]
        }
    })
}

fn connection() -> Value {
    json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneConnection",
        "metadata": {"name": "central", "namespace": "team-sales"},
        "spec": {
            "region": "eu-central-1",
            "domain": {"name": "corp-mesh"},
            "roleArn": "arn:aws:iam::111111111111:role/dz-registration",
            "producer": {"provisioningRoleArn": "arn:aws:iam::222222222222:role/DataZoneProvisioning-111111111111",
                         "manageAccessRoleArn": "arn:aws:iam::222222222222:role/DzRedshiftAccess-eu-central-1-corp-mesh"}
        }
    })
}

fn edited(base: Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut object = base;
    edit(&mut object);
    object
}

fn assert_rejected(schema: &Value, object: &Value, old: Option<&Value>, message: &str) {
    let got = violations(schema, object, old);
    assert!(got.iter().any(|m| m.contains(message)), "expected a violation containing {message:?}, got {got:?}");
}

#[test]
fn valid_objects_pass_every_rule() {
    let products = schema_of(RedshiftDataProduct::crd());
    assert_eq!(violations(&products, &product(), None), Vec::<String>::new());
    assert_eq!(violations(&products, &product(), Some(&product())), Vec::<String>::new(), "an unchanged update");
    let connections = schema_of(DataZoneConnection::crd());
    assert_eq!(violations(&connections, &connection(), None), Vec::<String>::new());
}

#[test]
fn cluster_name_xor_workgroup_name() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let message = "exactly one of clusterName (provisioned cluster) or workgroupName (Redshift Serverless) must be set";
    let both = edited(product(), |o| o["spec"]["redshift"]["workgroupName"] = json!("analytics-wg"));
    assert_rejected(&schema, &both, None, message);
    let neither = edited(product(), |o| {
        o["spec"]["redshift"].as_object_mut().unwrap().remove("clusterName");
    });
    assert_rejected(&schema, &neither, None, message);
    let workgroup_only = edited(neither, |o| o["spec"]["redshift"]["workgroupName"] = json!("analytics-wg"));
    assert_eq!(violations(&schema, &workgroup_only, None), Vec::<String>::new());
}

#[test]
fn at_least_one_schema() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let none = edited(product(), |o| o["spec"]["schemas"] = json!([]));
    assert_rejected(&schema, &none, None, "spec.schemas: at least one schema is required");
}

#[test]
fn each_schema_selects_something() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let message = "the schema selects nothing: set addAllTables or addAllViews, or list tables, views or assets";
    let nothing = edited(product(), |o| {
        o["spec"]["schemas"] = json!([{"name": "public", "tables": ["orders"]}, {"name": "empty"}])
    });
    assert_rejected(&schema, &nothing, None, message);
    let all_false = edited(product(), |o| {
        o["spec"]["schemas"] =
            json!([{"name": "public", "addAllTables": false, "addAllViews": false, "tables": [], "views": []}])
    });
    assert_rejected(&schema, &all_false, None, message);
    for selects in [
        json!({"name": "s", "addAllTables": true}),
        json!({"name": "s", "addAllViews": true}),
        json!({"name": "s", "views": ["v"]}),
        json!({"name": "s", "assets": [{"name": "orders", "description": "Every order"}]}),
    ] {
        let ok = edited(product(), |o| o["spec"]["schemas"] = json!([selects]));
        assert_eq!(violations(&schema, &ok, None), Vec::<String>::new());
    }
}

#[test]
fn redshift_source_is_immutable() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let message = "the Redshift cluster, workgroup and database are immutable";
    let old = product();
    let other_cluster = edited(product(), |o| o["spec"]["redshift"]["clusterName"] = json!("other-dwh"));
    assert_rejected(&schema, &other_cluster, Some(&old), message);
    let other_database = edited(product(), |o| o["spec"]["redshift"]["database"] = json!("marketing"));
    assert_rejected(&schema, &other_database, Some(&old), message);
    let to_workgroup = edited(product(), |o| {
        let redshift = o["spec"]["redshift"].as_object_mut().unwrap();
        redshift.remove("clusterName");
        redshift.insert("workgroupName".into(), json!("analytics-wg"));
    });
    assert_rejected(&schema, &to_workgroup, Some(&old), message);
    // The secret and the schemas may change.
    let new_secret_and_table = edited(product(), |o| {
        o["spec"]["redshift"]["credentialsSecretArn"] =
            json!("arn:aws:secretsmanager:eu-central-1:222222222222:secret:rotated-XyZ");
        o["spec"]["schemas"][0]["tables"] = json!(["orders", "customers"]);
    });
    assert_eq!(violations(&schema, &new_secret_and_table, Some(&old)), Vec::<String>::new());
}

#[test]
fn project_and_connection_are_immutable() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let old = product();
    let other_project = edited(product(), |o| o["spec"]["project"] = json!("marketing"));
    assert_rejected(&schema, &other_project, Some(&old), "spec.project is immutable");
    let other_connection = edited(product(), |o| o["spec"]["connectionRef"]["name"] = json!("other"));
    assert_rejected(&schema, &other_connection, Some(&old), "spec.connectionRef is immutable");
    let other_kind = edited(product(), |o| o["spec"]["connectionRef"]["kind"] = json!("ClusterDataZoneConnection"));
    assert_rejected(&schema, &other_kind, Some(&old), "spec.connectionRef is immutable");
}

#[test]
fn adoption_names_one_data_source_and_is_immutable() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let by_id = edited(product(), |o| o["spec"]["adopt"] = json!({"dataSourceId": "ds_lambda01"}));
    assert_eq!(violations(&schema, &by_id, None), Vec::<String>::new());
    let both = edited(product(), |o| o["spec"]["adopt"] = json!({"dataSourceId": "ds1", "dataSourceName": "sales"}));
    assert_rejected(&schema, &both, None, "spec.adopt: set exactly one of dataSourceId or dataSourceName");
    let neither = edited(product(), |o| o["spec"]["adopt"] = json!({}));
    assert_rejected(&schema, &neither, None, "spec.adopt: set exactly one of dataSourceId or dataSourceName");
    let message = "spec.adopt is immutable";
    assert_rejected(&schema, &by_id, Some(&product()), message);
    assert_rejected(&schema, &product(), Some(&by_id), message);
    let other = edited(product(), |o| o["spec"]["adopt"] = json!({"dataSourceId": "ds_other"}));
    assert_rejected(&schema, &other, Some(&by_id), message);
    assert_eq!(violations(&schema, &by_id, Some(&by_id)), Vec::<String>::new(), "an unchanged update");
}

#[test]
fn domain_has_exactly_one_of_name_or_id() {
    let message = "domain: set exactly one of name or id";
    for schema in [schema_of(DataZoneConnection::crd()), schema_of(ClusterDataZoneConnection::crd())] {
        let both = edited(connection(), |o| o["spec"]["domain"]["id"] = json!("dzd_0123456789abcd"));
        assert_rejected(&schema, &both, None, message);
        let neither = edited(connection(), |o| o["spec"]["domain"] = json!({}));
        assert_rejected(&schema, &neither, None, message);
        let id_only = edited(connection(), |o| o["spec"]["domain"] = json!({"id": "dzd_0123456789abcd"}));
        assert_eq!(violations(&schema, &id_only, None), Vec::<String>::new());
    }
}

#[test]
fn a_metadata_form_names_its_type_once() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let message = "a metadata form names its form type by exactly one of typeName or typeIdentifier";
    let form = |type_name: Option<&str>, type_identifier: Option<&str>| {
        let mut f = json!({"formName": "ownership", "content": {"owner": "sales"}});
        if let Some(t) = type_name {
            f["typeName"] = json!(t);
        }
        if let Some(t) = type_identifier {
            f["typeIdentifier"] = json!(t);
        }
        f
    };
    for (bad, good) in
        [(form(None, None), form(Some("OwnershipFormType"), None)), (form(Some("A"), Some("B")), form(None, Some("B")))]
    {
        let on_product = |f: &Value| edited(product(), |o| o["spec"]["metadataForms"] = json!([f]));
        assert_rejected(&schema, &on_product(&bad), None, message);
        assert_eq!(violations(&schema, &on_product(&good), None), Vec::<String>::new());
        let on_asset = edited(product(), |o| {
            o["spec"]["schemas"][0]["assets"] = json!([{"name": "customers", "metadataForms": [bad.clone()]}])
        });
        assert_rejected(&schema, &on_asset, None, message);
    }
}

#[test]
fn a_metadata_form_is_not_named_like_a_technical_form() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let form = |name: &str| json!([{"formName": name, "typeName": "OwnershipFormType", "content": {}}]);
    let named = |name: &str| edited(product(), |o| o["spec"]["metadataForms"] = form(name));
    for technical in ["RedshiftTableForm", "RedshiftViewForm"] {
        assert_rejected(&schema, &named(technical), None, "the assets' own technical forms");
    }
    assert_eq!(violations(&schema, &named("ownership"), None), Vec::<String>::new());
}

#[test]
fn data_product_groups_exclude_per_schema_and_a_name_and_name_schemas_of_the_resource() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let group = json!({"name": "orders-core", "items": [{"schema": "public", "name": "orders"}]});
    let with = |data_product: Value| edited(product(), |o| o["spec"]["dataProduct"] = data_product);
    for fine in [json!({}), json!({"per": "Schema"}), json!({"name": "sales"}), json!({"groups": [group.clone()]})] {
        assert_eq!(violations(&schema, &with(fine.clone()), None), Vec::<String>::new(), "{fine}");
    }
    assert_rejected(
        &schema,
        &with(json!({"per": "Schema", "groups": [group.clone()]})),
        None,
        "groups and per: Schema",
    );
    assert_rejected(&schema, &with(json!({"name": "sales", "groups": [group]})), None, "each group names its own");
    let elsewhere = json!({"groups": [{"name": "g", "items": [{"schema": "finance", "name": "ledger"}]}]});
    assert_rejected(&schema, &with(elsewhere), None, "every item's schema must be one of spec.schemas");
}

#[test]
fn an_access_rule_that_rejects_states_its_reason() {
    let schema = schema_of(RedshiftDataProduct::crd());
    let with = |rule: Value| edited(product(), |o| o["spec"]["access"] = json!({"rules": [rule]}));
    let approve = json!({"name": "analytics", "projects": ["analytics-team"], "decision": "Approve"});
    let reject = json!({"name": "partners-out", "projects": ["*"], "decision": "Reject", "reason": "by agreement"});
    for fine in [approve, reject] {
        assert_eq!(violations(&schema, &with(fine.clone()), None), Vec::<String>::new(), "{fine}");
    }
    let silent = json!({"name": "partners-out", "projects": ["*"], "decision": "Reject"});
    assert_rejected(&schema, &with(silent), None, "spec.access.rules[].reason: a Reject rule states its reason");
}

fn subscription() -> Value {
    json!({
        "apiVersion": "dataproducts.dev/v1alpha1", "kind": "DataZoneSubscription",
        "metadata": {"name": "orders-for-reports", "namespace": "team-analytics"},
        "spec": {
            "connectionRef": {"kind": "DataZoneConnection", "name": "analytics"},
            "project": "analytics",
            "wanted": {"dataProduct": {"name": "sales-orders", "project": "sales"}},
            "reason": "Monthly revenue reports",
            "redshift": {"workgroupName": "analytics-wg", "database": "reports"}
        }
    })
}

#[test]
fn a_subscription_wants_exactly_one_thing_lands_in_one_redshift_and_keeps_its_project() {
    let schema = schema_of(DataZoneSubscription::crd());
    assert_eq!(violations(&schema, &subscription(), None), Vec::<String>::new());
    assert_eq!(violations(&schema, &subscription(), Some(&subscription())), Vec::<String>::new());
    let by_id = edited(subscription(), |o| o["spec"]["wanted"] = json!({"listingId": "aBc123"}));
    assert_eq!(violations(&schema, &by_id, None), Vec::<String>::new());
    let message = "spec.wanted: name exactly one of dataProduct, asset or listingId";
    let nothing = edited(subscription(), |o| o["spec"]["wanted"] = json!({}));
    assert_rejected(&schema, &nothing, None, message);
    let two = edited(subscription(), |o| o["spec"]["wanted"]["listingId"] = json!("aBc123"));
    assert_rejected(&schema, &two, None, message);
    let both = edited(subscription(), |o| o["spec"]["redshift"]["clusterName"] = json!("prod-dwh"));
    assert_rejected(&schema, &both, None, "spec.redshift: set exactly one of clusterName or workgroupName");
    let neither = edited(subscription(), |o| o["spec"]["redshift"] = json!({"database": "reports"}));
    assert_rejected(&schema, &neither, None, "spec.redshift: set exactly one of clusterName or workgroupName");
    let moved = edited(subscription(), |o| o["spec"]["project"] = json!("finance"));
    assert_rejected(&schema, &moved, Some(&subscription()), "spec.project is immutable");
    let other = edited(subscription(), |o| o["spec"]["connectionRef"]["name"] = json!("central"));
    assert_rejected(&schema, &other, Some(&subscription()), "spec.connectionRef is immutable");
}

#[test]
fn every_rule_in_the_crds_is_covered_here() {
    // A new rule must come with its test above: this lists the messages those tests check.
    let covered = [
        "exactly one of clusterName (provisioned cluster) or workgroupName (Redshift Serverless) must be set",
        "the Redshift cluster, workgroup and database are immutable",
        "spec.schemas: at least one schema is required",
        "the schema selects nothing",
        "spec.project is immutable",
        "spec.connectionRef is immutable",
        "domain: set exactly one of name or id",
        "spec.adopt: set exactly one of dataSourceId or dataSourceName",
        "spec.adopt is immutable",
        "a metadata form names its form type",
        "formName RedshiftTableForm and RedshiftViewForm",
        "spec.dataProduct: groups and per: Schema exclude each other",
        "spec.dataProduct.name: with groups, each group names its own data product",
        "spec.dataProduct.groups: every item's schema must be one of spec.schemas",
        "spec.access.rules[].reason: a Reject rule states its reason",
        "spec.wanted: name exactly one of dataProduct, asset or listingId",
        "spec.redshift: set exactly one of clusterName or workgroupName",
    ];
    let mut messages = Vec::new();
    for crd in datazone_operator::crd::all_crds() {
        collect_messages(&serde_json::to_value(&crd).unwrap(), &mut messages);
    }
    assert!(!messages.is_empty());
    for message in messages {
        assert!(covered.iter().any(|c| message.starts_with(c)), "rule {message:?} has no test in admission_rules.rs");
    }
}

fn collect_messages(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(rules)) = map.get("x-kubernetes-validations") {
                out.extend(rules.iter().filter_map(|r| r["message"].as_str().map(String::from)));
            }
            map.values().for_each(|v| collect_messages(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_messages(v, out)),
        _ => {}
    }
}
