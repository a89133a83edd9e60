//! The API's OpenAPI document: pinned (an API change shows in review as a snapshot diff), valid
//! in the ways clients rely on, and complete (every route the router serves is in it).

use std::collections::BTreeSet;

use serde_json::Value;
use vein_node::api::openapi::{self, Method, ROUTES};

#[test]
fn the_document_is_pinned() {
    insta::assert_snapshot!("openapi", openapi::document());
}

#[test]
fn the_document_is_deterministic_and_every_reference_resolves() {
    let text = openapi::document();
    assert_eq!(text, openapi::document());
    let document: Value = serde_json::from_str(&text).expect("the document is JSON");
    assert_eq!(document["openapi"], "3.0.3");
    let schemas = document["components"]["schemas"].as_object().expect("components.schemas");
    let mut references = BTreeSet::new();
    collect_refs(&document, &mut references);
    assert!(references.len() > 40, "{} references", references.len());
    for reference in references {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{reference} does not point into components.schemas"));
        assert!(schemas.contains_key(name), "{reference} names no schema");
    }
    // Every operation documents its success and its JSON error answer.
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = &operation["responses"];
            assert!(responses["200"].is_object(), "{method} {path}: no 200");
            assert!(responses["4XX"].is_object(), "{method} {path}: no 4XX");
        }
    }
}

fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => {
                        out.insert(reference.clone());
                    }
                    _ => collect_refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

/// The router's `.route(PATH, get(..).post(..))` calls, read from its source: a route added
/// there without a row in `openapi::ROUTES` fails here, naming it.
#[test]
fn every_route_of_the_router_is_documented() {
    let source = include_str!("../src/api.rs");
    let mut served = BTreeSet::new();
    for line in source.lines().map(str::trim).filter(|line| line.starts_with(".route(\"")) {
        let rest = &line[".route(\"".len()..];
        let Some((path, handlers)) = rest.split_once('"') else { continue };
        for (call, method) in [("get(", "get"), ("post(", "post")] {
            if handlers.contains(call) {
                served.insert((path.to_string(), method));
            }
        }
    }
    assert!(served.len() > 30, "read {} routes from api.rs", served.len());
    let documented: BTreeSet<(String, &str)> = ROUTES
        .iter()
        .map(|route| {
            let method = match route.method {
                Method::Get => "get",
                Method::Post => "post",
            };
            (route.path.to_string(), method)
        })
        .collect();
    assert_eq!(served, documented, "the router and openapi::ROUTES disagree");
}
