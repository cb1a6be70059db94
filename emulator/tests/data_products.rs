//! Data products through the real SDK: created with assets as items (idempotent by client token,
//! names unique in the domain), revised by restating them, read by revision, their revisions
//! listed in pages; published with a listing change set (their assets reachable through the
//! product's listing), republished after a revision, unpublished; found by Search and
//! SearchListings; and what they hold kept from DeleteAsset. Every answer is held against
//! botocore's model ([`common::shapes`]).

mod common;

use aws_sdk_datazone::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_datazone::operation::create_data_product::CreateDataProductOutput;
use aws_sdk_datazone::operation::create_listing_change_set::CreateListingChangeSetOutput;
use aws_sdk_datazone::operation::get_listing::GetListingOutput;
use aws_sdk_datazone::types::{
    ChangeAction, DataProductItem, DataProductItemType, DataProductStatus, EntityType, Filter, FilterClause, FormInput,
    InventorySearchScope, ListingStatus, SearchOutputAdditionalAttribute,
};
use common::*;

type Client = aws_sdk_datazone::Client;

fn message<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.as_service_error().and_then(|s| s.message()).unwrap_or_default().to_string()
}

fn item(asset: &str) -> DataProductItem {
    DataProductItem::builder().item_type(DataProductItemType::Asset).identifier(asset).build().unwrap()
}

fn ownership(owner: &str) -> FormInput {
    FormInput::builder()
        .form_name("ownership")
        .type_identifier("OwnershipFormType")
        .content(format!(r#"{{"owner":"{owner}"}}"#))
        .build()
        .unwrap()
}

/// The sales project with `orders`, `customers` and `v_orders` imported (not published) by one
/// run: (project, [orders, customers, v_orders] asset IDs).
async fn imported(emulator: &datazone_emulator::Emulator, role: &Client) -> (String, [String; 3]) {
    let (project, env) = active_environment(&emulator.endpoint(), "sales").await;
    let objects = vec![include("orders"), include("customers"), include("v_orders")];
    let ds = redshift_data_source(role, &project, &env, "sales-public", filter_config("sales", "public", objects))
        .send()
        .await
        .unwrap();
    let run = run_to_end(role, ds.id()).await;
    let activities =
        role.list_data_source_run_activities().domain_identifier(DOMAIN).identifier(run.id()).send().await.unwrap();
    let asset = |name: &str| {
        activities
            .items()
            .iter()
            .find(|a| a.technical_name() == name)
            .and_then(|a| a.data_asset_id())
            .unwrap_or_else(|| panic!("an asset of {name}: {activities:?}"))
            .to_string()
    };
    (project, [asset("orders"), asset("customers"), asset("v_orders")])
}

/// A glossary of the project with one term; the term's ID.
/// The data product "Orders" of `project`, holding `assets`.
async fn orders_product(role: &Client, project: &str, assets: &[&str]) -> CreateDataProductOutput {
    let create = role.create_data_product().domain_identifier(DOMAIN).name("Orders").owning_project_identifier(project);
    assets.iter().fold(create, |c, a| c.items(item(a))).send().await.unwrap()
}

async fn term(role: &Client, project: &str, name: &str) -> String {
    let glossary = role
        .create_glossary()
        .domain_identifier(DOMAIN)
        .name(format!("{name} glossary"))
        .owning_project_identifier(project)
        .send()
        .await
        .unwrap();
    let term = role
        .create_glossary_term()
        .domain_identifier(DOMAIN)
        .glossary_identifier(glossary.id())
        .name(name)
        .short_description(format!("{name}, as the business says it"))
        .send()
        .await
        .unwrap();
    term.id().to_string()
}

async fn change(
    role: &Client,
    entity_type: EntityType,
    id: &str,
    action: ChangeAction,
) -> Result<CreateListingChangeSetOutput, String> {
    role.create_listing_change_set()
        .domain_identifier(DOMAIN)
        .entity_identifier(id)
        .entity_type(entity_type)
        .action(action)
        .send()
        .await
        .map_err(|e| code(&e))
}

async fn listing(role: &Client, id: &str, revision: Option<&str>) -> GetListingOutput {
    role.get_listing()
        .domain_identifier(DOMAIN)
        .identifier(id)
        .set_listing_revision(revision.map(str::to_string))
        .send()
        .await
        .unwrap()
}

/// The asset's listing status as GetAsset tells it (`None`: never listed).
async fn asset_listing(role: &Client, asset: &str) -> Option<(String, ListingStatus)> {
    let got = role.get_asset().domain_identifier(DOMAIN).identifier(asset).send().await.unwrap();
    got.listing().map(|l| (l.listing_id().to_string(), l.listing_status().clone()))
}

/// The assets SearchListings finds on their own.
async fn catalog_assets(role: &Client) -> Vec<String> {
    let found = role.search_listings().domain_identifier(DOMAIN).send().await.unwrap();
    found.items().iter().filter_map(|i| i.as_asset_listing().ok()?.entity_id()).map(str::to_string).collect()
}

#[tokio::test]
async fn data_products_are_created_revised_and_read_by_revision() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, [orders, customers, v_orders]) = imported(&emulator, &role).await;
    let order = term(&role, &project, "Order").await;
    let create = |name: &str, token: &str| {
        role.create_data_product()
            .domain_identifier(DOMAIN)
            .name(name)
            .owning_project_identifier(&project)
            .description("Every order and who placed it")
            .glossary_terms(&order)
            .forms_input(ownership("team-sales"))
            .items(
                DataProductItem::builder()
                    .item_type(DataProductItemType::Asset)
                    .identifier(&orders)
                    .revision("1")
                    .glossary_terms(&order)
                    .build()
                    .unwrap(),
            )
            .items(item(&customers))
            .client_token(token)
            .send()
    };
    let created = create("Orders", "dp-1").await.unwrap();
    assert_eq!((created.revision(), created.name(), created.owning_project_id()), ("1", "Orders", project.as_str()));
    assert_eq!(created.status(), &DataProductStatus::Created);
    assert_eq!(created.description(), Some("Every order and who placed it"));
    assert_eq!(created.glossary_terms(), std::slice::from_ref(&order));
    let items: Vec<(&str, Option<&str>, &[String])> =
        created.items().iter().map(|i| (i.identifier(), i.revision(), i.glossary_terms())).collect();
    assert_eq!(
        items,
        [(orders.as_str(), Some("1"), std::slice::from_ref(&order)), (customers.as_str(), None, &[][..])]
    );
    assert_eq!(created.items()[0].item_type(), &DataProductItemType::Asset);
    let forms: Vec<(&str, Option<&str>)> =
        created.forms_output().iter().map(|f| (f.form_name(), f.type_name())).collect();
    assert_eq!(forms, [("ownership", Some("OwnershipFormType"))]);
    assert!(created.created_at().is_some() && created.first_revision_created_at().is_some());

    let again = create("Orders", "dp-1").await.unwrap();
    assert_eq!((again.id(), again.revision()), (created.id(), "1"), "the same token: the same data product");
    let duplicate = create("Orders", "dp-2").await.unwrap_err();
    assert_eq!(code(&duplicate), "ConflictException", "{duplicate:?}");
    assert!(message(&duplicate).contains("Orders"), "{duplicate:?}");

    // A revision restates the whole product: customers out, v_orders in, no forms, no terms.
    let id = created.id().to_string();
    let revise = |token: &str| {
        role.create_data_product_revision()
            .domain_identifier(DOMAIN)
            .identifier(&id)
            .name("Orders and their view")
            .items(item(&orders))
            .items(item(&v_orders))
            .client_token(token)
            .send()
    };
    let second = revise("rev-2").await.unwrap();
    assert_eq!((second.id(), second.revision(), second.name()), (id.as_str(), "2", "Orders and their view"));
    assert_eq!(second.items().iter().map(|i| i.identifier()).collect::<Vec<_>>(), [&orders, &v_orders]);
    assert_eq!((second.description(), second.glossary_terms(), second.forms_output().len()), (None, &[][..], 0));
    assert_eq!(second.first_revision_created_by(), created.created_by());
    assert_eq!(revise("rev-2").await.unwrap().revision(), "2", "the same token: the same revision");
    assert_eq!(revise("rev-3").await.unwrap().revision(), "3");

    let latest = role.get_data_product().domain_identifier(DOMAIN).identifier(&id).send().await.unwrap();
    assert_eq!((latest.revision(), latest.items().len()), ("3", 2));
    let first = role.get_data_product().domain_identifier(DOMAIN).identifier(&id).revision("1").send().await.unwrap();
    assert_eq!((first.name(), first.items().len(), first.forms_output().len()), ("Orders", 2, 1));
    assert_eq!(first.description(), Some("Every order and who placed it"));
    let none = role.get_data_product().domain_identifier(DOMAIN).identifier(&id).revision("9").send().await;
    assert_eq!(code(&none.unwrap_err()), "ResourceNotFoundException");
    let gone = role.get_data_product().domain_identifier(DOMAIN).identifier("nosuchproduct").send().await;
    assert_eq!(code(&gone.unwrap_err()), "ResourceNotFoundException");

    // Its revisions, the newest first, a page at a time; a token from another listing is refused.
    let page = |token: Option<String>| {
        role.list_data_product_revisions()
            .domain_identifier(DOMAIN)
            .identifier(&id)
            .max_results(2)
            .set_next_token(token)
            .send()
    };
    let one = page(None).await.unwrap();
    let two = page(one.next_token().map(str::to_string)).await.unwrap();
    let numbers: Vec<Option<&str>> = one.items().iter().chain(two.items()).map(|r| r.revision()).collect();
    assert_eq!(numbers, [Some("3"), Some("2"), Some("1")]);
    assert_eq!((two.next_token(), one.items()[0].id()), (None, Some(id.as_str())));
    let wrong = role
        .list_data_product_revisions()
        .domain_identifier(DOMAIN)
        .identifier(&id)
        .next_token("6e6f")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&wrong), "ValidationException");

    // A renaming revision may not take another data product's name.
    role.create_data_product()
        .domain_identifier(DOMAIN)
        .name("Customers")
        .owning_project_identifier(&project)
        .send()
        .await
        .unwrap();
    let taken = role.create_data_product_revision().domain_identifier(DOMAIN).identifier(&id).name("Customers").send();
    assert_eq!(code(&taken.await.unwrap_err()), "ConflictException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn items_are_assets_of_the_owning_project() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, [orders, ..]) = imported(&emulator, &role).await;
    let create = |items: Vec<DataProductItem>| {
        role.create_data_product()
            .domain_identifier(DOMAIN)
            .name("Orders")
            .owning_project_identifier(&project)
            .set_items(Some(items))
            .send()
    };
    let unknown = create(vec![item("nosuchasset")]).await.unwrap_err();
    assert_eq!(code(&unknown), "ResourceNotFoundException");
    let no_revision = DataProductItem::builder()
        .item_type(DataProductItemType::Asset)
        .identifier(&orders)
        .revision("7")
        .build()
        .unwrap();
    assert_eq!(code(&create(vec![no_revision]).await.unwrap_err()), "ValidationException");
    assert_eq!(code(&create(vec![item(&orders), item(&orders)]).await.unwrap_err()), "ValidationException");
    let table =
        DataProductItem::builder().item_type(DataProductItemType::from("TABLE")).identifier(&orders).build().unwrap();
    let not_asset = create(vec![table]).await.unwrap_err();
    assert_eq!(code(&not_asset), "ValidationException");
    assert!(message(&not_asset).contains("items.1.member.itemType"), "{not_asset:?}");
    assert_eq!(code(&create(vec![]).await.unwrap_err()), "ValidationException", "items has at least one");
    let bad_term = role
        .create_data_product()
        .domain_identifier(DOMAIN)
        .name("Orders")
        .owning_project_identifier(&project)
        .glossary_terms("noterm")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_term), "ValidationException");

    // Another project's data product cannot hold sales' assets.
    let admin = datazone(&emulator, GOVERNANCE).await;
    let marketing = admin.create_project().domain_identifier(DOMAIN).name("marketing").send().await.unwrap();
    let foreign = admin
        .create_data_product()
        .domain_identifier(DOMAIN)
        .name("Borrowed orders")
        .owning_project_identifier(marketing.id())
        .items(item(&orders))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&foreign), "ValidationException");
    assert!(message(&foreign).contains(&project), "{foreign:?}");

    // Non-members of the project neither create nor read.
    let made = create(vec![item(&orders)]).await.unwrap();
    let outsider = datazone(&emulator, PRODUCER).await;
    let denied = outsider
        .create_data_product()
        .domain_identifier(DOMAIN)
        .name("Mine")
        .owning_project_identifier(&project)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDeniedException");
    let denied = outsider.get_data_product().domain_identifier(DOMAIN).identifier(made.id()).send().await;
    assert_eq!(code(&denied.unwrap_err()), "AccessDeniedException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn publishing_a_data_product_lists_it_with_its_assets() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, [orders, customers, v_orders]) = imported(&emulator, &role).await;
    let order = term(&role, &project, "Order").await;
    // customers is published on its own; orders and v_orders are not published.
    let customers_listing = change(&role, EntityType::Asset, &customers, ChangeAction::Publish).await.unwrap();
    let product = role
        .create_data_product()
        .domain_identifier(DOMAIN)
        .name("Orders")
        .description("Every order and who placed it")
        .owning_project_identifier(&project)
        .glossary_terms(&order)
        .forms_input(ownership("team-sales"))
        .items(
            DataProductItem::builder()
                .item_type(DataProductItemType::Asset)
                .identifier(&orders)
                .glossary_terms(&order)
                .build()
                .unwrap(),
        )
        .items(item(&customers))
        .send()
        .await
        .unwrap();
    let id = product.id().to_string();

    let published = change(&role, EntityType::DataProduct, &id, ChangeAction::Publish).await.unwrap();
    assert_eq!((published.listing_revision(), published.status()), ("1", &ListingStatus::Active));
    let again = change(&role, EntityType::DataProduct, &id, ChangeAction::Publish).await.unwrap();
    assert_eq!((again.listing_id(), again.listing_revision()), (published.listing_id(), "1"), "nothing new to list");
    let got = listing(&role, published.listing_id(), None).await;
    assert_eq!((got.name(), got.description()), (Some("Orders"), Some("Every order and who placed it")));
    assert_eq!((got.listing_revision(), got.status()), ("1", Some(&ListingStatus::Active)));
    let dp = got.item().unwrap().as_data_product_listing().unwrap();
    assert_eq!((dp.data_product_id(), dp.data_product_revision()), (Some(id.as_str()), Some("1")));
    assert_eq!(dp.owning_project_id(), Some(project.as_str()));
    assert_eq!(dp.glossary_terms().iter().map(|t| t.name()).collect::<Vec<_>>(), [Some("Order")]);
    let forms: serde_json::Value = serde_json::from_str(dp.forms().unwrap()).unwrap();
    assert_eq!(forms["ownership"]["owner"], "team-sales");
    // The items are the assets' listings: orders published only through the product, customers
    // through its own listing.
    let (orders_listing, status) = asset_listing(&role, &orders).await.expect("orders is listed now");
    assert_eq!(status, ListingStatus::Active);
    let items: Vec<(Option<&str>, Option<&str>)> =
        dp.items().iter().map(|i| (i.listing_id(), i.listing_revision())).collect();
    assert_eq!(items, [(Some(orders_listing.as_str()), Some("1")), (Some(customers_listing.listing_id()), Some("1"))]);
    assert_eq!(dp.items()[0].glossary_terms().iter().map(|t| t.name()).collect::<Vec<_>>(), [Some("Order")]);
    let orders_item = listing(&role, &orders_listing, None).await;
    assert_eq!(orders_item.item().unwrap().as_asset_listing().unwrap().asset_id(), Some(orders.as_str()));

    // SearchListings finds the product and customers, not orders (reachable only through the product).
    let found = role.search_listings().domain_identifier(DOMAIN).send().await.unwrap();
    let products: Vec<_> = found.items().iter().filter_map(|i| i.as_data_product_listing().ok()).collect();
    let assets: Vec<_> = found.items().iter().filter_map(|i| i.as_asset_listing().ok()).collect();
    assert_eq!(products.iter().map(|p| p.entity_id()).collect::<Vec<_>>(), [Some(id.as_str())]);
    assert_eq!(assets.iter().map(|a| a.entity_id()).collect::<Vec<_>>(), [Some(customers.as_str())]);
    assert_eq!((found.total_match_count(), products[0].items().len()), (Some(2), 2));
    let by_text = role
        .search_listings()
        .domain_identifier(DOMAIN)
        .search_text("who placed")
        .additional_attributes(SearchOutputAdditionalAttribute::Forms)
        .send()
        .await
        .unwrap();
    let hit = by_text.items()[0].as_data_product_listing().unwrap();
    assert_eq!((by_text.items().len(), hit.listing_id()), (1, Some(published.listing_id())));
    assert!(hit.additional_attributes().and_then(|a| a.forms()).is_some_and(|f| f.contains("team-sales")));
    // Search (the inventory) finds the data product by its description, by its term too.
    let inventory = role
        .search()
        .domain_identifier(DOMAIN)
        .search_scope(InventorySearchScope::DataProduct)
        .owning_project_identifier(&project)
        .search_text("placed")
        .filters(FilterClause::Filter(
            Filter::builder().attribute("__DataZoneGlossaryTerms").value(&order).build().unwrap(),
        ))
        .send()
        .await
        .unwrap();
    let hit = inventory.items()[0].as_data_product_item().unwrap();
    assert_eq!((inventory.items().len(), hit.id(), hit.name()), (1, id.as_str(), "Orders"));
    let none = role
        .search()
        .domain_identifier(DOMAIN)
        .search_scope(InventorySearchScope::DataProduct)
        .search_text("nothing like it");
    assert!(none.send().await.unwrap().items().is_empty());

    // A revision published again moves the listing: orders out (and out of the catalog), v_orders in.
    role.create_data_product_revision()
        .domain_identifier(DOMAIN)
        .identifier(&id)
        .name("Orders")
        .items(item(&customers))
        .items(item(&v_orders))
        .send()
        .await
        .unwrap();
    let moved = change(&role, EntityType::DataProduct, &id, ChangeAction::Publish).await.unwrap();
    assert_eq!((moved.listing_id(), moved.listing_revision()), (published.listing_id(), "2"));
    let got = listing(&role, published.listing_id(), None).await;
    let dp = got.item().unwrap().as_data_product_listing().unwrap();
    assert_eq!((got.listing_revision(), dp.data_product_revision(), dp.items().len()), ("2", Some("2"), 2));
    let old = listing(&role, published.listing_id(), Some("1")).await;
    assert_eq!(old.item().unwrap().as_data_product_listing().unwrap().data_product_revision(), Some("1"));
    assert_eq!(asset_listing(&role, &orders).await.map(|l| l.1), Some(ListingStatus::Inactive));
    assert_eq!(asset_listing(&role, &v_orders).await.map(|l| l.1), Some(ListingStatus::Active));

    // Unpublished: out of SearchListings; v_orders with it; customers stays (published on its own).
    let unpublished = change(&role, EntityType::DataProduct, &id, ChangeAction::Unpublish).await.unwrap();
    assert_eq!((unpublished.listing_revision(), unpublished.status()), ("2", &ListingStatus::Inactive));
    let got = listing(&role, published.listing_id(), None).await;
    assert_eq!(got.status(), Some(&ListingStatus::Inactive));
    let found = role.search_listings().domain_identifier(DOMAIN).send().await.unwrap();
    assert!(found.items().iter().all(|i| i.is_asset_listing()), "{found:?}");
    assert_eq!(asset_listing(&role, &v_orders).await.map(|l| l.1), Some(ListingStatus::Inactive));
    assert_eq!(asset_listing(&role, &customers).await.map(|l| l.1), Some(ListingStatus::Active));
    let republished = change(&role, EntityType::DataProduct, &id, ChangeAction::Publish).await.unwrap();
    assert_eq!((republished.listing_revision(), republished.status()), ("3", &ListingStatus::Active));

    // What cannot be published.
    let empty = role
        .create_data_product()
        .domain_identifier(DOMAIN)
        .name("Nothing yet")
        .owning_project_identifier(&project)
        .send()
        .await
        .unwrap();
    assert_eq!(
        change(&role, EntityType::DataProduct, empty.id(), ChangeAction::Publish).await.unwrap_err(),
        "ValidationException"
    );
    assert_eq!(
        change(&role, EntityType::DataProduct, empty.id(), ChangeAction::Unpublish).await.unwrap_err(),
        "ResourceNotFoundException"
    );
    assert_eq!(
        change(&role, EntityType::DataProduct, &orders, ChangeAction::Publish).await.unwrap_err(),
        "ResourceNotFoundException"
    );
    let outsider = datazone(&emulator, PRODUCER).await;
    assert_eq!(
        change(&outsider, EntityType::DataProduct, &id, ChangeAction::Unpublish).await.unwrap_err(),
        "AccessDeniedException"
    );
    // The catalog is the domain's: a caller of another project reads the listing.
    let seen = outsider.get_listing().domain_identifier(DOMAIN).identifier(published.listing_id()).send().await;
    assert!(seen.unwrap().item().unwrap().is_data_product_listing());
    let state = control(&emulator, "GET", "/_emulator/state", None).await.1;
    assert_eq!(state["dataProducts"].as_array().map(Vec::len), Some(2));
    emulator.shutdown().await;
}

#[tokio::test]
async fn assets_a_data_product_holds_are_not_deleted() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, [orders, customers, v_orders]) = imported(&emulator, &role).await;
    let delete_asset = |asset: &str| role.delete_asset().domain_identifier(DOMAIN).identifier(asset).send();
    let product = orders_product(&role, &project, &[&orders, &customers]).await;
    let id = product.id().to_string();

    // In a draft: refused.
    let held = delete_asset(&orders).await.unwrap_err();
    assert_eq!(code(&held), "ConflictException");
    assert!(message(&held).contains(&id), "{held:?}");
    // Held by nothing: gone, and its listing with it.
    let v_listing = change(&role, EntityType::Asset, &v_orders, ChangeAction::Publish).await.unwrap();
    let outsider = datazone(&emulator, PRODUCER).await;
    let denied = outsider.delete_asset().domain_identifier(DOMAIN).identifier(&v_orders).send().await;
    assert_eq!(code(&denied.unwrap_err()), "AccessDeniedException");
    delete_asset(&v_orders).await.unwrap();
    let gone = role.get_asset().domain_identifier(DOMAIN).identifier(&v_orders).send().await.unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    let gone = role.get_listing().domain_identifier(DOMAIN).identifier(v_listing.listing_id()).send().await;
    assert_eq!(code(&gone.unwrap_err()), "ResourceNotFoundException");
    assert_eq!(code(&delete_asset(&v_orders).await.unwrap_err()), "ResourceNotFoundException");

    // Published, then taken out of the draft: still held by the published revision.
    let published = change(&role, EntityType::DataProduct, &id, ChangeAction::Publish).await.unwrap();
    role.create_data_product_revision()
        .domain_identifier(DOMAIN)
        .identifier(&id)
        .name("Orders")
        .items(item(&customers))
        .send()
        .await
        .unwrap();
    assert_eq!(code(&delete_asset(&orders).await.unwrap_err()), "ConflictException");
    change(&role, EntityType::DataProduct, &id, ChangeAction::Publish).await.unwrap();
    delete_asset(&orders).await.unwrap();

    // DeleteDataProduct of a published product: its listing goes, and customers, reachable only
    // through it, leaves the catalog; customers itself stays in the inventory.
    assert_eq!(asset_listing(&role, &customers).await.map(|l| l.1), Some(ListingStatus::Active));
    role.delete_data_product().domain_identifier(DOMAIN).identifier(&id).send().await.unwrap();
    let gone = role.get_data_product().domain_identifier(DOMAIN).identifier(&id).send().await.unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    let gone = role.get_listing().domain_identifier(DOMAIN).identifier(published.listing_id()).send().await;
    assert_eq!(code(&gone.unwrap_err()), "ResourceNotFoundException");
    assert_eq!(asset_listing(&role, &customers).await.map(|l| l.1), Some(ListingStatus::Inactive));
    let again = role.delete_data_product().domain_identifier(DOMAIN).identifier(&id).send().await.unwrap_err();
    assert_eq!(code(&again), "ResourceNotFoundException");
    delete_asset(&customers).await.unwrap();
    let calls = control(&emulator, "GET", "/_emulator/calls", None).await.1;
    assert_eq!(calls["datazone:DeleteDataProduct"].as_u64(), Some(2));
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_asset_published_through_a_product_and_on_its_own() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, [orders, ..]) = imported(&emulator, &role).await;
    let product = orders_product(&role, &project, &[&orders]).await;
    let published = change(&role, EntityType::DataProduct, product.id(), ChangeAction::Publish).await.unwrap();
    assert!(catalog_assets(&role).await.is_empty(), "only through the data product");
    // Published on its own: the same listing, now in the catalog by itself.
    let own = change(&role, EntityType::Asset, &orders, ChangeAction::Publish).await.unwrap();
    let through = listing(&role, published.listing_id(), None).await;
    let item_listing = through.item().unwrap().as_data_product_listing().unwrap().items()[0].listing_id();
    assert_eq!((Some(own.listing_id()), own.listing_revision()), (item_listing, "1"));
    assert_eq!(catalog_assets(&role).await, [orders.as_str()]);
    // Unpublished on its own: still ACTIVE through the data product, not found by itself.
    let withdrawn = change(&role, EntityType::Asset, &orders, ChangeAction::Unpublish).await.unwrap();
    assert_eq!(withdrawn.status(), &ListingStatus::Active);
    assert!(catalog_assets(&role).await.is_empty());
    change(&role, EntityType::DataProduct, product.id(), ChangeAction::Unpublish).await.unwrap();
    assert_eq!(asset_listing(&role, &orders).await.map(|l| l.1), Some(ListingStatus::Inactive));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_publishing_run_lists_on_their_own_the_assets_a_product_reaches() {
    let emulator = start(fast()).await;
    let role = as_role(&emulator).await;
    let (project, [orders, ..]) = imported(&emulator, &role).await;
    let product = orders_product(&role, &project, &[&orders]).await;
    change(&role, EntityType::DataProduct, product.id(), ChangeAction::Publish).await.unwrap();
    let (through, _) = asset_listing(&role, &orders).await.unwrap();
    assert!(catalog_assets(&role).await.is_empty());
    // publishOnImport now: the run publishes every asset on its own, orders in the listing it has.
    let sources = role.list_data_sources().domain_identifier(DOMAIN).project_identifier(&project).send().await.unwrap();
    // Ours, not the environment's default data source.
    let ds = sources.items().iter().find(|d| d.name() == "sales-public").unwrap().data_source_id().to_string();
    role.update_data_source().domain_identifier(DOMAIN).identifier(&ds).publish_on_import(true).send().await.unwrap();
    let run = run_to_end(&role, &ds).await;
    assert_eq!(run.run_statistics_for_assets().and_then(|s| s.updated()), Some(3), "{run:?}");
    assert_eq!(asset_listing(&role, &orders).await, Some((through, ListingStatus::Active)));
    assert_eq!(catalog_assets(&role).await.len(), 3);

    // SearchListings a page at a time: three assets and the data product.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page =
            role.search_listings().domain_identifier(DOMAIN).max_results(1).set_next_token(token).send().await.unwrap();
        assert_eq!((page.items().len(), page.total_match_count()), (1, Some(4)));
        seen.push(page.items()[0].is_data_product_listing());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!((seen.len(), seen.iter().filter(|p| **p).count()), (4, 1));
    let only_products = role
        .search_listings()
        .domain_identifier(DOMAIN)
        .filters(FilterClause::Filter(Filter::builder().attribute("entityType").value("DATA_PRODUCT").build().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(only_products.items().len(), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_domain_holds_at_most_its_quota_of_glossaries_terms_and_data_products() {
    use datazone_emulator::Lifecycle;
    let limits =
        Lifecycle { glossaries_per_domain: 1, glossary_terms_per_domain: 1, data_products_per_domain: 1, ..fast() };
    let emulator = start(limits).await;
    let role = as_role(&emulator).await;
    let project = sales_project(&role).await;
    let refused = |e: &dyn std::fmt::Debug, what: &str, code: &str, status: Option<u16>, message: &str| {
        assert_eq!((code, status), ("ServiceQuotaExceededException", Some(402)), "{what}: {e:?}");
        assert!(
            message.contains(&format!("Domain {DOMAIN} has reached the limit of 1 {what} per domain")),
            "{message}"
        );
    };
    let glossary = |name: &'static str| {
        role.create_glossary().domain_identifier(DOMAIN).name(name).owning_project_identifier(&project).send()
    };
    let sales = glossary("Sales").await.unwrap();
    let err = glossary("Finance").await.unwrap_err();
    refused(&err, "glossaries", &code(&err), err.raw_response().map(|r| r.status().as_u16()), &message(&err));
    let term = |name: &'static str| {
        role.create_glossary_term().domain_identifier(DOMAIN).glossary_identifier(sales.id()).name(name).send()
    };
    term("Revenue").await.unwrap();
    let err = term("Margin").await.unwrap_err();
    refused(&err, "glossary terms", &code(&err), err.raw_response().map(|r| r.status().as_u16()), &message(&err));
    let product = |name: &'static str| {
        role.create_data_product().domain_identifier(DOMAIN).name(name).owning_project_identifier(&project).send()
    };
    product("Orders").await.unwrap();
    let err = product("Customers").await.unwrap_err();
    refused(&err, "data products", &code(&err), err.raw_response().map(|r| r.status().as_u16()), &message(&err));
    let state = control(&emulator, "GET", "/_emulator/state", None).await.1;
    let held = |key: &str| state[key].as_array().map_or(0, Vec::len);
    assert_eq!((held("glossaries"), held("glossaryTerms"), held("dataProducts")), (1, 1, 1), "nothing past the quotas");
    emulator.shutdown().await;
}
