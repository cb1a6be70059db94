//! Business metadata through the real SDK: form types and their revisions, glossaries and terms
//! (and finding them with Search), a data source's asset forms on the assets it creates, asset
//! revisions with descriptions, terms and forms, listings that publish an asset revision, and
//! metadata generation runs. Every answer is held against botocore's model ([`common::shapes`]).

mod common;

use aws_sdk_datazone::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_datazone::types::{
    ChangeAction, DataSourceRunStatus, EntityType, Filter, FilterClause, FilterOperator, FormInput, FormTypeStatus,
    GlossaryStatus, GlossaryTermStatus, InventorySearchScope, ListingStatus, MetadataGenerationRunStatus,
    MetadataGenerationRunTarget, MetadataGenerationRunType, MetadataGenerationTargetType, Model as FormTypeModel,
    SearchInventoryResultItem, SearchOutputAdditionalAttribute,
};
use common::*;

type Client = aws_sdk_datazone::Client;

const OWNERSHIP: &str = "structure Ownership {\n    @required\n    owner: String\n    tier: Integer\n}\n";
const OWNERSHIP_V2: &str =
    "structure Ownership {\n    @required\n    owner: String\n    tier: Integer\n    steward: String\n}\n";

/// The service error's message.
fn message<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.as_service_error().and_then(|s| s.message()).unwrap_or_default().to_string()
}

fn form(name: &str, type_identifier: &str, content: &str) -> FormInput {
    FormInput::builder().form_name(name).type_identifier(type_identifier).content(content).build().unwrap()
}

/// The form type `Ownership` in the project, by the role; its revision.
async fn ownership_type(role: &Client, project: &str, smithy: &str) -> String {
    role.create_form_type()
        .domain_identifier(DOMAIN)
        .name("Ownership")
        .model(FormTypeModel::Smithy(smithy.into()))
        .owning_project_identifier(project)
        .status(FormTypeStatus::Enabled)
        .send()
        .await
        .unwrap()
        .revision()
        .to_string()
}

/// A glossary `name` of the project and its term `term`: (glossary ID, term ID).
async fn glossary_with_term(role: &Client, project: &str, name: &str, term: &str) -> (String, String) {
    let glossary = role
        .create_glossary()
        .domain_identifier(DOMAIN)
        .name(name)
        .owning_project_identifier(project)
        .send()
        .await
        .unwrap()
        .id()
        .to_string();
    let term = role
        .create_glossary_term()
        .domain_identifier(DOMAIN)
        .glossary_identifier(&glossary)
        .name(term)
        .short_description(format!("{term}, as the business says it"))
        .send()
        .await
        .unwrap()
        .id()
        .to_string();
    (glossary, term)
}

/// The asset of `object` the data source's run made.
async fn asset_of(role: &Client, run_id: &str, object: &str) -> String {
    let activities =
        role.list_data_source_run_activities().domain_identifier(DOMAIN).identifier(run_id).send().await.unwrap();
    activities
        .items()
        .iter()
        .find(|a| a.technical_name() == object)
        .and_then(|a| a.data_asset_id())
        .unwrap_or_else(|| panic!("an asset of {object} in {activities:?}"))
        .to_string()
}

/// A data source on `sales.public.orders` with the `ownership` form for its assets, run once:
/// (project, data source ID, the orders asset's ID).
async fn imported_orders(
    emulator: &datazone_emulator::Emulator,
    role: &Client,
    publish: bool,
) -> (String, String, String) {
    let (project, env) = active_environment(&emulator.endpoint(), "sales").await;
    ownership_type(role, &project, OWNERSHIP).await;
    let ds =
        redshift_data_source(role, &project, &env, "orders", filter_config("sales", "public", vec![include("orders")]))
            .publish_on_import(publish)
            .asset_forms_input(form("ownership", "Ownership", r#"{"owner":"team-sales"}"#))
            .send()
            .await
            .unwrap()
            .id()
            .to_string();
    let run = run_to_end(role, &ds).await;
    assert_eq!(run.status(), &DataSourceRunStatus::Success, "{run:?}");
    let asset = asset_of(role, run.id(), "orders").await;
    (project, ds, asset)
}

#[tokio::test]
async fn form_types_have_revisions() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let project = sales_project(&role).await;
    assert_eq!(ownership_type(&role, &project, OWNERSHIP).await, "1");
    assert_eq!(ownership_type(&role, &project, OWNERSHIP).await, "1", "the same model: the same revision");
    assert_eq!(ownership_type(&role, &project, OWNERSHIP_V2).await, "2", "another model: a new revision");

    let latest = role.get_form_type().domain_identifier(DOMAIN).form_type_identifier("Ownership").send().await.unwrap();
    assert_eq!((latest.name(), latest.revision()), ("Ownership", "2"));
    assert_eq!(latest.model(), Some(&FormTypeModel::Smithy(OWNERSHIP_V2.into())));
    assert_eq!((latest.owning_project_id(), latest.status()), (Some(project.as_str()), Some(&FormTypeStatus::Enabled)));
    let first = role
        .get_form_type()
        .domain_identifier(DOMAIN)
        .form_type_identifier("Ownership")
        .revision("1")
        .send()
        .await
        .unwrap();
    assert_eq!(first.model(), Some(&FormTypeModel::Smithy(OWNERSHIP.into())));

    // Any caller of the domain reads form types, the built-in ones too.
    let producer = datazone(&emulator, PRODUCER).await;
    let built_in = producer
        .get_form_type()
        .domain_identifier(DOMAIN)
        .form_type_identifier("amazon.datazone.RedshiftTableFormType")
        .send()
        .await
        .unwrap();
    assert_eq!(built_in.revision(), "1");
    let missing =
        role.get_form_type().domain_identifier(DOMAIN).form_type_identifier("Nothing").send().await.unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");

    // Unreadable Smithy, a reserved name, and a caller outside the project are refused.
    let create = |who: &Client, name: &str, smithy: &str| {
        who.create_form_type()
            .domain_identifier(DOMAIN)
            .name(name)
            .model(FormTypeModel::Smithy(smithy.into()))
            .owning_project_identifier(&project)
            .send()
    };
    let bad = create(&role, "Quality", "structure Quality { score: Blob }").await.unwrap_err();
    assert_eq!(code(&bad), "ValidationException");
    assert!(message(&bad).contains("score"), "{bad:?}");
    let reserved = create(&role, "amazon.datazone.Mine", OWNERSHIP).await.unwrap_err();
    assert_eq!(code(&reserved), "ValidationException");
    let outsider = create(&producer, "Quality", OWNERSHIP).await.unwrap_err();
    assert_eq!(code(&outsider), "AccessDeniedException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_fixture_declares_form_types() {
    let mut fixture = fixture();
    let corp = fixture.domains.iter_mut().find(|d| d.name == "corp-mesh").unwrap();
    corp.form_types = vec![datazone_emulator::fixture::FormTypeFixture {
        name: "Ownership".into(),
        smithy: OWNERSHIP.into(),
        owning_project: "sales".into(),
        description: Some("Who owns it".into()),
    }];
    fixture.validate().unwrap();
    let emulator = start_with(datazone_emulator::EmulatorConfig { fixture, lifecycle: fast(), rate_limit: None }).await;
    let role = as_role(&emulator).await;
    let got = role.get_form_type().domain_identifier(DOMAIN).form_type_identifier("Ownership").send().await.unwrap();
    assert_eq!((got.revision(), got.description()), ("1", Some("Who owns it")));
    assert_eq!(got.owning_project_id(), Some(sales_project(&role).await.as_str()));
    emulator.shutdown().await;
}

#[tokio::test]
async fn glossaries_and_terms_are_made_once_and_found() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let project = sales_project(&role).await;
    let glossary = |name: &str, token: Option<&str>| {
        role.create_glossary()
            .domain_identifier(DOMAIN)
            .name(name)
            .owning_project_identifier(&project)
            .description("Words of the sales team")
            .set_client_token(token.map(str::to_string))
            .send()
    };
    let made = glossary("Sales", Some("g-1")).await.unwrap();
    assert_eq!(made.status(), Some(&GlossaryStatus::Enabled), "ENABLED by default");
    let again = glossary("Sales", Some("g-1")).await.unwrap();
    assert_eq!(again.id(), made.id(), "the same token: the same glossary");
    let duplicate = glossary("Sales", None).await.unwrap_err();
    assert_eq!(code(&duplicate), "ConflictException");
    role.update_glossary()
        .domain_identifier(DOMAIN)
        .identifier(made.id())
        .description("Sales words")
        .send()
        .await
        .unwrap();
    let got = role.get_glossary().domain_identifier(DOMAIN).identifier(made.id()).send().await.unwrap();
    assert_eq!(
        (got.name(), got.description(), got.owning_project_id()),
        ("Sales", Some("Sales words"), project.as_str())
    );

    let term = |glossary: &str, name: &str, token: Option<&str>| {
        role.create_glossary_term()
            .domain_identifier(DOMAIN)
            .glossary_identifier(glossary)
            .name(name)
            .short_description("Revenue after returns")
            .set_client_token(token.map(str::to_string))
            .send()
    };
    let revenue = term(made.id(), "Net revenue", Some("t-1")).await.unwrap();
    assert_eq!((revenue.glossary_id(), revenue.status()), (made.id(), &GlossaryTermStatus::Enabled));
    assert_eq!(term(made.id(), "Net revenue", Some("t-1")).await.unwrap().id(), revenue.id());
    assert_eq!(code(&term(made.id(), "Net revenue", None).await.unwrap_err()), "ConflictException");
    assert_eq!(code(&term("nosuchglossary", "Churn", None).await.unwrap_err()), "ResourceNotFoundException");
    let updated = role
        .update_glossary_term()
        .domain_identifier(DOMAIN)
        .identifier(revenue.id())
        .long_description("Gross revenue minus returns and discounts")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.short_description(), Some("Revenue after returns"), "what is not given stays");
    let got = role.get_glossary_term().domain_identifier(DOMAIN).identifier(revenue.id()).send().await.unwrap();
    assert_eq!(got.long_description(), Some("Gross revenue minus returns and discounts"));

    // A second glossary with a term of the same name.
    let (finance, finance_revenue) = glossary_with_term(&role, &project, "Finance", "Net revenue").await;
    // Only members of the glossary's project write in it.
    let producer = datazone(&emulator, PRODUCER).await;
    let outsider = producer
        .create_glossary_term()
        .domain_identifier(DOMAIN)
        .glossary_identifier(&finance)
        .name("Margin")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&outsider), "AccessDeniedException");

    // Search: by name (any caller of the domain), by glossary, by project, a page at a time.
    let terms = |items: &[SearchInventoryResultItem]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = items
            .iter()
            .filter_map(|i| i.as_glossary_term_item().ok())
            .map(|t| (t.glossary_id().to_string(), t.id().to_string()))
            .collect();
        v.sort();
        v
    };
    let by_name = producer
        .search()
        .domain_identifier(DOMAIN)
        .search_scope(InventorySearchScope::GlossaryTerm)
        .search_text("net REVENUE")
        .send()
        .await
        .unwrap();
    let mut both = vec![(made.id().to_string(), revenue.id().to_string()), (finance.clone(), finance_revenue.clone())];
    both.sort();
    assert_eq!(terms(by_name.items()), both);
    let in_finance = role
        .search()
        .domain_identifier(DOMAIN)
        .search_scope(InventorySearchScope::GlossaryTerm)
        .filters(FilterClause::Filter(
            Filter::builder().attribute("glossaryId").value(&finance).operator(FilterOperator::Eq).build().unwrap(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(terms(in_finance.items()), [(finance.clone(), finance_revenue)]);
    let glossaries = role
        .search()
        .domain_identifier(DOMAIN)
        .search_scope(InventorySearchScope::Glossary)
        .owning_project_identifier(&project)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!((glossaries.items().len(), glossaries.total_match_count()), (1, Some(2)));
    let rest = role
        .search()
        .domain_identifier(DOMAIN)
        .search_scope(InventorySearchScope::Glossary)
        .owning_project_identifier(&project)
        .max_results(1)
        .next_token(glossaries.next_token().expect("a second page"))
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = glossaries
        .items()
        .iter()
        .chain(rest.items())
        .filter_map(|i| i.as_glossary_item().ok())
        .map(|g| g.name())
        .collect();
    names.sort();
    assert_eq!((names, rest.next_token()), (vec!["Finance", "Sales"], None));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_data_source_gives_its_forms_to_the_assets_it_creates() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, env) = active_environment(&emulator.endpoint(), "sales").await;
    ownership_type(&role, &project, OWNERSHIP).await;
    let create = |name: &str, forms: Vec<FormInput>| {
        redshift_data_source(&role, &project, &env, name, filter_config("sales", "public", vec![include("orders")]))
            .set_asset_forms_input(Some(forms))
            .send()
    };

    // Content that does not fit the type is refused, naming the form and the member.
    let missing = create("missing", vec![form("ownership", "Ownership", r#"{"tier":1}"#)]).await.unwrap_err();
    assert_eq!(code(&missing), "ValidationException");
    assert!(message(&missing).contains("ownership") && message(&missing).contains("member owner"), "{missing:?}");
    let typed = create("typed", vec![form("ownership", "Ownership", r#"{"owner":"a","tier":"gold"}"#)]).await;
    assert!(message(&typed.unwrap_err()).contains("member tier"));
    let unknown = create("unknown", vec![form("ownership", "Ownership", r#"{"owner":"a","colour":"red"}"#)]).await;
    assert!(message(&unknown.unwrap_err()).contains("member colour"));
    let no_type = create("no-type", vec![form("quality", "Quality", "{}")]).await.unwrap_err();
    assert_eq!(code(&no_type), "ValidationException");
    assert!(message(&no_type).contains("Quality"), "{no_type:?}");
    let bad_name = create("bad-name", vec![form("1st", "Ownership", r#"{"owner":"a"}"#)]).await.unwrap_err();
    assert!(message(&bad_name).contains("assetFormsInput.1.member.formName"), "{bad_name:?}");

    let made = create("orders", vec![form("ownership", "Ownership", r#"{"owner":"team-sales"}"#)]).await.unwrap();
    let out = &made.asset_forms_output()[0];
    assert_eq!((out.form_name(), out.type_name(), out.type_revision()), ("ownership", Some("Ownership"), Some("1")));
    let got = role.get_data_source().domain_identifier(DOMAIN).identifier(made.id()).send().await.unwrap();
    assert_eq!(got.asset_forms_output().len(), 1);
    let run = run_to_end(&role, made.id()).await;
    let asset = asset_of(&role, run.id(), "orders").await;
    let got = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).send().await.unwrap();
    let forms: Vec<(&str, Option<&str>)> = got.forms_output().iter().map(|f| (f.form_name(), f.type_name())).collect();
    assert_eq!(
        forms,
        [("RedshiftTableForm", Some("amazon.datazone.RedshiftTableFormType")), ("ownership", Some("Ownership"))]
    );
    assert_eq!(got.forms_output()[1].content(), Some(r#"{"owner":"team-sales"}"#));
    assert_eq!(got.revision(), "1");

    // UpdateDataSource replaces the forms; assets already made keep theirs.
    ownership_type(&role, &project, OWNERSHIP_V2).await;
    let updated = role
        .update_data_source()
        .domain_identifier(DOMAIN)
        .identifier(made.id())
        .asset_forms_input(form("ownership", "Ownership", r#"{"owner":"team-b","steward":"ann"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.asset_forms_output()[0].type_revision(), Some("2"), "the type's latest revision");
    let rerun = run_to_end(&role, made.id()).await;
    assert_eq!(rerun.run_statistics_for_assets().and_then(|s| s.unchanged()), Some(1));
    let got = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).send().await.unwrap();
    assert_eq!((got.revision(), got.forms_output()[1].content()), ("1", Some(r#"{"owner":"team-sales"}"#)));
    emulator.shutdown().await;
}

#[tokio::test]
async fn asset_revisions_carry_descriptions_terms_and_forms() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, _, asset) = imported_orders(&emulator, &role, false).await;
    let (_, term) = glossary_with_term(&role, &project, "Sales", "Order").await;
    let revise = |token: &str, terms: Vec<String>| {
        role.create_asset_revision()
            .domain_identifier(DOMAIN)
            .identifier(&asset)
            .name("Orders")
            .description("Every order since 2019")
            .set_glossary_terms(Some(terms))
            .forms_input(form("ownership", "Ownership", r#"{"owner":"team-sales","tier":1}"#))
            .client_token(token)
            .send()
    };
    let second = revise("rev-1", vec![term.clone()]).await.unwrap();
    assert_eq!(
        (second.revision(), second.name(), second.description()),
        ("2", "Orders", Some("Every order since 2019"))
    );
    assert_eq!(second.glossary_terms(), std::slice::from_ref(&term));
    assert_eq!(revise("rev-1", vec![term.clone()]).await.unwrap().revision(), "2", "the same token: the same revision");
    let unknown = revise("rev-2", vec!["noterm".into()]).await.unwrap_err();
    assert_eq!(code(&unknown), "ValidationException");
    assert!(message(&unknown).contains("noterm"), "{unknown:?}");

    let latest = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).send().await.unwrap();
    assert_eq!((latest.revision(), latest.glossary_terms()), ("2", [term.clone()].as_slice()));
    let names: Vec<&str> = latest.forms_output().iter().map(|f| f.form_name()).collect();
    assert_eq!(names, ["RedshiftTableForm", "ownership"], "the technical form stays");
    let first = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).revision("1").send().await.unwrap();
    assert_eq!((first.name(), first.description(), first.glossary_terms()), ("orders", None, [].as_slice()));
    let none = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).revision("7").send().await.unwrap_err();
    assert_eq!(code(&none), "ResourceNotFoundException");

    // formsInput is the revision's whole set of forms: left out, a form is gone.
    let third =
        role.create_asset_revision().domain_identifier(DOMAIN).identifier(&asset).name("Orders").send().await.unwrap();
    assert_eq!((third.revision(), third.description(), third.glossary_terms()), ("3", None, [].as_slice()));
    assert_eq!(third.forms_output().iter().map(|f| f.form_name()).collect::<Vec<_>>(), ["RedshiftTableForm"]);

    // Search answers the latest revision; FORMS adds its forms; terms filter.
    revise("rev-4", vec![term.clone()]).await.unwrap();
    let found = role
        .search()
        .domain_identifier(DOMAIN)
        .search_scope(InventorySearchScope::Asset)
        .additional_attributes(SearchOutputAdditionalAttribute::Forms)
        .filters(FilterClause::Filter(
            Filter::builder().attribute("__DataZoneGlossaryTerms").value(&term).build().unwrap(),
        ))
        .send()
        .await
        .unwrap();
    let item = found.items()[0].as_asset_item().unwrap();
    assert_eq!(
        (item.identifier(), item.name(), item.description()),
        (asset.as_str(), "Orders", Some("Every order since 2019"))
    );
    assert_eq!(item.glossary_terms(), std::slice::from_ref(&term));
    let forms = item.additional_attributes().map(|a| a.forms_output().len());
    assert_eq!((found.items().len(), forms), (1, Some(2)));

    let producer = datazone(&emulator, PRODUCER).await;
    let outsider = producer
        .create_asset_revision()
        .domain_identifier(DOMAIN)
        .identifier(&asset)
        .name("Mine")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&outsider), "AccessDeniedException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn listings_publish_asset_revisions() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, _, asset) = imported_orders(&emulator, &role, true).await;
    let imported = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).send().await.unwrap();
    let listing_id = imported.listing().expect("publishOnImport lists the asset").listing_id().to_string();
    let listing = role.get_listing().domain_identifier(DOMAIN).identifier(&listing_id).send().await.unwrap();
    let item = listing.item().unwrap().as_asset_listing().unwrap();
    assert_eq!((listing.listing_revision(), item.asset_revision()), ("1", Some("1")));
    assert_eq!(listing.status(), Some(&ListingStatus::Active));

    let (_, term) = glossary_with_term(&role, &project, "Sales", "Order").await;
    role.create_asset_revision()
        .domain_identifier(DOMAIN)
        .identifier(&asset)
        .name("Orders")
        .description("Every order")
        .glossary_terms(&term)
        .forms_input(form("ownership", "Ownership", r#"{"owner":"team-sales"}"#))
        .send()
        .await
        .unwrap();
    let change = |action: ChangeAction, revision: Option<&str>, token: &str| {
        role.create_listing_change_set()
            .domain_identifier(DOMAIN)
            .entity_identifier(&asset)
            .entity_type(EntityType::Asset)
            .set_entity_revision(revision.map(str::to_string))
            .action(action)
            .client_token(token)
            .send()
    };
    let published = change(ChangeAction::Publish, Some("2"), "pub-2").await.unwrap();
    assert_eq!((published.listing_id(), published.listing_revision()), (listing_id.as_str(), "2"));
    assert_eq!(published.status(), &ListingStatus::Active);
    assert_eq!(change(ChangeAction::Publish, Some("2"), "pub-2").await.unwrap().listing_revision(), "2");

    let listing = role.get_listing().domain_identifier(DOMAIN).identifier(&listing_id).send().await.unwrap();
    let item = listing.item().unwrap().as_asset_listing().unwrap();
    assert_eq!((listing.name(), listing.description()), (Some("Orders"), Some("Every order")));
    assert_eq!((item.asset_id(), item.asset_revision()), (Some(asset.as_str()), Some("2")));
    assert_eq!(item.asset_type(), Some("amazon.datazone.RedshiftTableAssetType"));
    let forms: serde_json::Value = serde_json::from_str(item.forms().unwrap()).unwrap();
    assert_eq!(forms["ownership"]["owner"], "team-sales");
    assert_eq!(forms["RedshiftTableForm"]["tableName"], "orders");
    let terms: Vec<Option<&str>> = item.glossary_terms().iter().map(|t| t.name()).collect();
    assert_eq!(terms, [Some("Order")]);
    let old = role
        .get_listing()
        .domain_identifier(DOMAIN)
        .identifier(&listing_id)
        .listing_revision("1")
        .send()
        .await
        .unwrap();
    assert_eq!(old.item().unwrap().as_asset_listing().unwrap().asset_revision(), Some("1"));

    let no_revision = change(ChangeAction::Publish, Some("9"), "pub-9").await.unwrap_err();
    assert_eq!(code(&no_revision), "ValidationException");
    let data_product = role
        .create_listing_change_set()
        .domain_identifier(DOMAIN)
        .entity_identifier(&asset)
        .entity_type(EntityType::DataProduct)
        .action(ChangeAction::Publish)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&data_product), "ResourceNotFoundException", "an asset is not a data product");
    let gone = role
        .create_listing_change_set()
        .domain_identifier(DOMAIN)
        .entity_identifier("nosuchasset")
        .entity_type(EntityType::Asset)
        .action(ChangeAction::Publish)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");

    let unpublished = change(ChangeAction::Unpublish, None, "unpub").await.unwrap();
    assert_eq!(unpublished.status(), &ListingStatus::Inactive);
    let got = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).send().await.unwrap();
    assert_eq!(got.listing().map(|l| l.listing_status()), Some(&ListingStatus::Inactive));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_run_that_updates_an_asset_keeps_its_business_metadata() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, ds, asset) = imported_orders(&emulator, &role, false).await;
    let (_, term) = glossary_with_term(&role, &project, "Sales", "Order").await;
    role.create_asset_revision()
        .domain_identifier(DOMAIN)
        .identifier(&asset)
        .name("Orders")
        .description("Every order")
        .glossary_terms(&term)
        .forms_input(form("ownership", "Ownership", r#"{"owner":"team-b"}"#))
        .send()
        .await
        .unwrap();
    // Publishing on import now: the next run updates the asset (and lists it).
    role.update_data_source().domain_identifier(DOMAIN).identifier(&ds).publish_on_import(true).send().await.unwrap();
    let run = run_to_end(&role, &ds).await;
    assert_eq!(run.run_statistics_for_assets().and_then(|s| s.updated()), Some(1), "{run:?}");
    let got = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).send().await.unwrap();
    assert_eq!((got.revision(), got.name(), got.description()), ("3", "Orders", Some("Every order")));
    assert_eq!(got.glossary_terms(), [term]);
    let forms: Vec<(&str, Option<&str>)> = got.forms_output().iter().map(|f| (f.form_name(), f.content())).collect();
    assert_eq!(forms[1], ("ownership", Some(r#"{"owner":"team-b"}"#)), "not stamped again: {forms:?}");
    let listing_id = got.listing().expect("listed").listing_id().to_string();
    let listing = role.get_listing().domain_identifier(DOMAIN).identifier(&listing_id).send().await.unwrap();
    assert_eq!(listing.item().unwrap().as_asset_listing().unwrap().asset_revision(), Some("3"));
    emulator.shutdown().await;
}

/// SUBMITTED and `type` are deprecated in the SDK (the Smithy model behind it), and used here on
/// purpose: the emulator answers SUBMITTED first, and refuses `type` beside `types`.
#[tokio::test]
#[allow(deprecated)]
async fn metadata_generation_runs_succeed_and_leave_the_asset_as_it_is() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, _, asset) = imported_orders(&emulator, &role, false).await;
    let target = MetadataGenerationRunTarget::builder()
        .r#type(MetadataGenerationTargetType::Asset)
        .identifier(&asset)
        .build()
        .unwrap();
    let start = |token: &str| {
        role.start_metadata_generation_run()
            .domain_identifier(DOMAIN)
            .owning_project_identifier(&project)
            .target(target.clone())
            .types(MetadataGenerationRunType::BusinessDescriptions)
            .types(MetadataGenerationRunType::BusinessNames)
            .client_token(token)
            .send()
    };
    let started = start("gen-1").await.unwrap();
    assert_eq!(started.status(), Some(&MetadataGenerationRunStatus::Submitted));
    assert_eq!(started.types().len(), 2);
    assert_eq!(start("gen-1").await.unwrap().id(), started.id(), "the same token: the same run");
    let done = eventually("generation SUCCEEDED", || async {
        let r = role.get_metadata_generation_run().domain_identifier(DOMAIN).identifier(started.id()).send().await;
        let r = r.unwrap();
        (r.status() == Some(&MetadataGenerationRunStatus::Succeeded)).then_some(r)
    })
    .await;
    assert_eq!(done.target().map(|t| t.identifier()), Some(asset.as_str()));
    assert_eq!(done.owning_project_id(), project);
    let got = role.get_asset().domain_identifier(DOMAIN).identifier(&asset).send().await.unwrap();
    assert_eq!((got.revision(), got.description()), ("1", None), "suggestions are not applied");

    let both = role
        .start_metadata_generation_run()
        .domain_identifier(DOMAIN)
        .owning_project_identifier(&project)
        .target(target.clone())
        .r#type(MetadataGenerationRunType::BusinessNames)
        .types(MetadataGenerationRunType::BusinessNames)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&both), "ValidationException");
    let missing = role
        .start_metadata_generation_run()
        .domain_identifier(DOMAIN)
        .owning_project_identifier(&project)
        .target(
            MetadataGenerationRunTarget::builder()
                .r#type(MetadataGenerationTargetType::Asset)
                .identifier("nope")
                .build()
                .unwrap(),
        )
        .r#type(MetadataGenerationRunType::BusinessNames)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_new_operations_are_counted_and_take_faults() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let project = sales_project(&role).await;
    control(&emulator, "DELETE", "/_emulator/calls", None).await;
    let (status, _) = control(
        &emulator,
        "POST",
        "/_emulator/faults",
        Some(serde_json::json!({"service": "datazone", "operation": "CreateGlossary", "error": "ThrottlingException", "count": 1})),
    )
    .await;
    assert_eq!(status, 201);
    let glossary =
        || role.create_glossary().domain_identifier(DOMAIN).name("Sales").owning_project_identifier(&project).send();
    assert_eq!(code(&glossary().await.unwrap_err()), "ThrottlingException");
    let made = glossary().await.unwrap();
    role.get_glossary().domain_identifier(DOMAIN).identifier(made.id()).send().await.unwrap();
    let calls = control(&emulator, "GET", "/_emulator/calls", None).await.1;
    assert_eq!((calls["datazone:CreateGlossary"].as_u64(), calls["datazone:GetGlossary"].as_u64()), (Some(2), Some(1)));
    let state = control(&emulator, "GET", "/_emulator/state", None).await.1;
    assert_eq!(state["glossaries"][0]["name"], "Sales");
    emulator.shutdown().await;
}
