//! No client input can produce `INTERNAL`: list arguments are bounded, and a corpus of
//! malformed values sent to every argument of every field (read from the schema by
//! introspection, so new fields are covered as they come) is answered with coded client
//! errors only.

use serde_json::{Value, json};

use crate::common::{TestApp, assert_bad_input, test_config};

/// Every list argument holds at most `SYNC_MAX_LIST_ITEMS` items, as a literal or a variable,
/// in an argument or in an input object's field: past it, `BAD_USER_INPUT` naming it. Up to it,
/// each list argument works on the database (no bound-parameter or expression-depth limit).
#[tokio::test]
async fn list_arguments_are_bounded_by_a_setting() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let listings: Vec<Value> = (0..3)
        .map(|i| json!({ "id": format!("l{i}"), "price": i }))
        .collect();
    app.data(
        &key,
        "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
        json!({ "s": source, "items": listings }),
    )
    .await;

    // 100,000 external ids used to be `INTERNAL` (too many bound values).
    let many: Vec<String> = (0..100_000).map(|i| format!("l{i}")).collect();
    let query = "query($s: ID!, $ids: [String!]) { source(id: $s) { properties(externalIds: $ids) { totalCount } } }";
    let body = app
        .graphql(&key, query, json!({ "s": source, "ids": many }))
        .await;
    assert_bad_input(&body, "$ids");
    assert_eq!(
        body["errors"][0]["message"],
        "$ids holds 100000 items, more than the limit of 1000; send fewer per request"
    );
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");

    // At the limit: a thousand of each list argument runs, on both databases.
    let thousand: Vec<String> = (0..1_000).map(|i| format!("l{i}")).collect();
    let data = app
        .data(&key, query, json!({ "s": source, "ids": thousand }))
        .await;
    assert_eq!(data["source"]["properties"]["totalCount"], 3);
    let conditions: Vec<Value> = (0..1_000)
        .map(|i| json!({ "path": "price", "op": "NE", "value": 1_000 + i }))
        .collect();
    let data = app
        .data(
            &key,
            "query($s: ID!, $w: [WhereCondition!]) { source(id: $s) { properties(where: $w) { totalCount } } }",
            json!({ "s": source, "w": conditions }),
        )
        .await;
    assert_eq!(data["source"]["properties"]["totalCount"], 3);
    // The values of `IN` (a JSON array, each a bound value) are bounded in all conditions.
    let in_query = "query($s: ID!, $w: [WhereCondition!]) { source(id: $s) { properties(where: $w) { totalCount } } }";
    let values: Vec<i64> = (0..10_000).collect();
    let data = app
        .data(
            &key,
            in_query,
            json!({ "s": source, "w": [{ "path": "price", "op": "IN", "value": values }] }),
        )
        .await;
    assert_eq!(data["source"]["properties"]["totalCount"], 3);
    let body = app
        .graphql(
            &key,
            in_query,
            json!({ "s": source, "w": [
                { "path": "price", "op": "IN", "value": (0..9_000).collect::<Vec<i64>>() },
                { "path": "price", "op": "IN", "value": (0..1_001).collect::<Vec<i64>>() },
            ] }),
        )
        .await;
    assert_bad_input(&body, "where[1].value");
    assert_eq!(
        body["errors"][0]["message"],
        "invalid where[1].value: IN compares at most 10000 values in all conditions"
    );
    // `nodes` takes a page's worth (`SYNC_MAX_PAGE_SIZE`, 500 here) below the list bound.
    let ids: Vec<&str> = std::iter::repeat_n(source.as_str(), 500).collect();
    let data = app
        .data(
            &key,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(data["nodes"].as_array().unwrap().len(), 500);
    assert_eq!(data["nodes"][499]["id"], source.as_str());
    let fields: Vec<String> = (0..1_000).map(|i| format!("f{i}")).collect();
    let data = app
        .data(
            &key,
            "query($s: ID!, $f: [String!]) { source(id: $s) { properties(first: 1) { nodes { data(fields: $f) } } } }",
            json!({ "s": source, "f": fields }),
        )
        .await;
    assert_eq!(data["source"]["properties"]["nodes"][0]["data"], json!({}));

    // One past it, each is refused, naming the argument: literals too, and an input field.
    let literal = |items: usize, item: &str| {
        let list = vec![item; items].join(", ");
        format!("[{list}]")
    };
    let cases = [
        (
            format!(
                "{{ nodes(ids: {}) {{ id }} }}",
                literal(1_001, &json!(source).to_string())
            ),
            "ids",
        ),
        (
            format!(
                "{{ source(id: {}) {{ properties(externalIds: {}) {{ totalCount }} }} }}",
                json!(source),
                literal(1_001, "\"x\"")
            ),
            "externalIds",
        ),
        (
            format!(
                "{{ source(id: {}) {{ properties(where: {}) {{ totalCount }} }} }}",
                json!(source),
                literal(1_001, "{ path: \"price\", op: EXISTS }")
            ),
            "where",
        ),
        (
            format!(
                "{{ source(id: {}) {{ properties {{ nodes {{ data(fields: {}) }} }} }} }}",
                json!(source),
                literal(1_001, "\"f\"")
            ),
            "fields",
        ),
        (
            format!(
                "mutation {{ createApiKey(input: {{ name: \"k\", scopes: {} }}) {{ key }} }}",
                literal(1_001, "READ")
            ),
            "input.scopes",
        ),
    ];
    for (query, field) in cases {
        let body = app.graphql(&key, &query, json!({})).await;
        assert_bad_input(&body, field);
        assert_eq!(
            body["errors"][0]["message"],
            format!(
                "{field} holds 1001 items, more than the limit of 1000; send fewer per request"
            )
        );
    }

    // The limit is a setting; an import's `items` (JSON) is not a list argument.
    let mut config = test_config();
    config.max_list_items = 2;
    let app = TestApp::spawn_with(config).await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let body = app
        .graphql(&key, query, json!({ "s": source, "ids": ["a", "b", "c"] }))
        .await;
    assert_bad_input(&body, "$ids");
    let data = app
        .data(
            &key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
            json!({ "s": source, "items": listings }),
        )
        .await;
    assert_eq!(data["importProperties"]["importRun"]["created"], 3);
}

/// A value as a literal in the document and as a variable's JSON; either may be absent
/// (`1e400` has no JSON form, a key `""` no literal form).
#[derive(Clone, Debug)]
struct Sent {
    literal: Option<String>,
    variable: Option<Value>,
}

impl Sent {
    /// The same JSON value both ways.
    fn both(value: Value) -> Self {
        Self {
            literal: literal_of(&value),
            variable: Some(value),
        }
    }

    /// Literal text only (an enum value, a number JSON cannot hold).
    fn raw(text: &str) -> Self {
        Self {
            literal: Some(text.to_owned()),
            variable: None,
        }
    }

    /// An enum value: bare in the document, a string in JSON.
    fn enumeration(name: &str) -> Self {
        Self {
            literal: Some(name.to_owned()),
            variable: Some(Value::String(name.to_owned())),
        }
    }

    /// `[self]`.
    fn listed(self) -> Self {
        Self {
            literal: self.literal.map(|l| format!("[{l}]")),
            variable: self.variable.map(|v| json!([v])),
        }
    }
}

/// The GraphQL literal of a JSON value; `None` when a key is not a GraphQL name.
fn literal_of(value: &Value) -> Option<String> {
    Some(match value {
        Value::String(text) => serde_json::to_string(text).ok()?,
        Value::Array(items) => {
            let items: Option<Vec<String>> = items.iter().map(literal_of).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(fields) => {
            let mut parts = Vec::new();
            for (key, field) in fields {
                let is_name = key
                    .chars()
                    .next()
                    .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                    && key.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
                if !is_name {
                    return None;
                }
                parts.push(format!("{key}: {}", literal_of(field)?));
            }
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    })
}

/// A type reference from introspection.
#[derive(Clone, Debug)]
struct TypeRef {
    kind: String,
    name: Option<String>,
    of_type: Option<Box<TypeRef>>,
}

impl TypeRef {
    fn from(value: &Value) -> Self {
        Self {
            kind: value["kind"].as_str().unwrap().to_owned(),
            name: value["name"].as_str().map(str::to_owned),
            of_type: value
                .get("ofType")
                .filter(|t| !t.is_null())
                .map(|t| Box::new(Self::from(t))),
        }
    }

    /// The type as written in a variable definition (`[String!]!`).
    fn written(&self) -> String {
        match self.kind.as_str() {
            "NON_NULL" => format!("{}!", self.inner().written()),
            "LIST" => format!("[{}]", self.inner().written()),
            _ => self.name.clone().unwrap(),
        }
    }

    fn inner(&self) -> &Self {
        self.of_type.as_deref().unwrap()
    }

    fn named(&self) -> &str {
        match &self.name {
            Some(name) => name,
            None => self.inner().named(),
        }
    }
}

/// An argument or input field: name, type, whether it has a default.
#[derive(Clone, Debug)]
struct InputDef {
    name: String,
    ty: TypeRef,
    has_default: bool,
}

impl InputDef {
    fn from(value: &Value) -> Self {
        Self {
            name: value["name"].as_str().unwrap().to_owned(),
            ty: TypeRef::from(&value["type"]),
            has_default: !value["defaultValue"].is_null(),
        }
    }

    fn required(&self) -> bool {
        self.ty.kind == "NON_NULL" && !self.has_default
    }
}

/// An output field: name, arguments, type.
#[derive(Clone, Debug)]
struct FieldDef {
    name: String,
    args: Vec<InputDef>,
    ty: TypeRef,
}

/// What the corpus needs of the schema, read by introspection.
struct Schema {
    kinds: std::collections::HashMap<String, String>,
    fields: std::collections::HashMap<String, Vec<FieldDef>>,
    inputs: std::collections::HashMap<String, Vec<InputDef>>,
    enums: std::collections::HashMap<String, Vec<String>>,
}

const INTROSPECTION: &str = "{ __schema { types { kind name
  fields { name type { ...T } args { name defaultValue type { ...T } } }
  inputFields { name defaultValue type { ...T } }
  enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

impl Schema {
    fn from(data: &Value) -> Self {
        let mut schema = Self {
            kinds: Default::default(),
            fields: Default::default(),
            inputs: Default::default(),
            enums: Default::default(),
        };
        for ty in data["__schema"]["types"].as_array().unwrap() {
            let name = ty["name"].as_str().unwrap().to_owned();
            if name.starts_with("__") {
                continue;
            }
            schema
                .kinds
                .insert(name.clone(), ty["kind"].as_str().unwrap().to_owned());
            if let Some(fields) = ty["fields"].as_array() {
                let fields = fields
                    .iter()
                    .map(|f| FieldDef {
                        name: f["name"].as_str().unwrap().to_owned(),
                        args: f["args"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(InputDef::from)
                            .collect(),
                        ty: TypeRef::from(&f["type"]),
                    })
                    .collect();
                schema.fields.insert(name.clone(), fields);
            }
            if let Some(inputs) = ty["inputFields"].as_array() {
                schema
                    .inputs
                    .insert(name.clone(), inputs.iter().map(InputDef::from).collect());
            }
            if let Some(values) = ty["enumValues"].as_array() {
                let values = values
                    .iter()
                    .map(|v| v["name"].as_str().unwrap().to_owned())
                    .collect();
                schema.enums.insert(name, values);
            }
        }
        schema
    }

    /// How to reach each object type from `Query` through fields without required
    /// arguments: the field names, outermost first.
    fn paths(&self) -> std::collections::HashMap<String, Vec<String>> {
        let mut paths = std::collections::HashMap::from([("Query".to_owned(), Vec::new())]);
        let mut queue = std::collections::VecDeque::from(["Query".to_owned()]);
        while let Some(ty) = queue.pop_front() {
            for field in self.fields.get(&ty).into_iter().flatten() {
                let target = field.ty.named().to_owned();
                if field.args.iter().any(InputDef::required)
                    || !self.fields.contains_key(&target)
                    || paths.contains_key(&target)
                {
                    continue;
                }
                let mut path = paths[&ty].clone();
                path.push(field.name.clone());
                paths.insert(target.clone(), path);
                queue.push_back(target);
            }
        }
        paths
    }
}

/// Ids and cursors of the two tenants' objects.
struct Fixture {
    source: String,
    target: String,
    /// A target listing with an open conflict.
    conflicted: String,
    source_property: String,
    api_key: String,
    cursor: String,
    /// Another tenant's source, target, target listing and API key.
    foreign: Vec<String>,
}

impl Fixture {
    /// The valid id for argument or input field `arg` of root field `field`.
    fn id_for(&self, field: &str, arg: &str) -> &str {
        let field = field.to_ascii_lowercase();
        match arg {
            "sourceId" => &self.source,
            "targetId" => &self.target,
            _ if field.contains("targetproperty") || field.contains("conflict") => &self.conflicted,
            _ if field.contains("apikey") => &self.api_key,
            _ if field.contains("target") => &self.target,
            _ => &self.source,
        }
    }
}

/// Builds values for one root field (its name picks the ids).
struct Corpus<'a> {
    schema: &'a Schema,
    fixture: &'a Fixture,
    field: String,
}

impl Corpus<'_> {
    /// A valid value of `ty` for the input named `name`.
    fn valid(&self, ty: &TypeRef, name: &str) -> Sent {
        match ty.kind.as_str() {
            "NON_NULL" => self.valid(ty.inner(), name),
            "LIST" => self.valid(ty.inner(), name).listed(),
            "ENUM" => Sent::enumeration(&self.schema.enums[ty.named()][0]),
            "INPUT_OBJECT" => self.object(ty.named(), None),
            _ => Sent::both(match (ty.named(), name) {
                ("ID", _) => json!(self.fixture.id_for(&self.field, name)),
                ("String", "path") => json!("price"),
                ("String", _) => json!("x"),
                ("Int", _) => json!(1),
                ("Boolean", _) => json!(false),
                ("DateTime", _) => json!("2026-01-01T00:00:00Z"),
                ("JSON", "items") => json!([{ "id": "v1", "price": 1 }]),
                ("JSON", _) => json!({ "price": 1 }),
                (other, _) => panic!("no valid value for scalar {other}"),
            }),
        }
    }

    /// An input object with its required fields valid, and `replaced` (a field and its
    /// value) in place.
    fn object(&self, input: &str, replaced: Option<(&str, &Sent)>) -> Sent {
        let mut literal = Some(Vec::new());
        let mut variable = Some(serde_json::Map::new());
        for field in &self.schema.inputs[input] {
            let value = match replaced {
                Some((name, value)) if name == field.name => value.clone(),
                _ if field.required() => self.valid(&field.ty, &field.name),
                _ => continue,
            };
            match (&mut literal, value.literal) {
                (Some(parts), Some(text)) => parts.push(format!("{}: {text}", field.name)),
                _ => literal = None,
            }
            match (&mut variable, value.variable) {
                (Some(map), Some(json)) => {
                    map.insert(field.name.clone(), json);
                }
                _ => variable = None,
            }
        }
        Sent {
            literal: literal.map(|parts| format!("{{{}}}", parts.join(", "))),
            variable: variable.map(Value::Object),
        }
    }

    /// Malformed values of `ty` for the input named `name`, each with what it is: values of
    /// every wrong type, then the values that are wrong for this type in particular.
    fn malformed(&self, ty: &TypeRef, name: &str) -> Vec<(String, Sent)> {
        let mut out: Vec<(String, Sent)> = [
            ("null", Sent::both(Value::Null)),
            ("an int", Sent::both(json!(123))),
            ("a float", Sent::both(json!(1.5))),
            ("a boolean", Sent::both(json!(true))),
            ("a string", Sent::both(json!("str"))),
            ("a NUL string", Sent::both(json!("a\u{0}b"))),
            ("an object", Sent::both(json!({ "zzz": 1 }))),
            ("an empty list", Sent::both(json!([]))),
            ("an unknown enum value", Sent::enumeration("NO_SUCH_VALUE")),
        ]
        .into_iter()
        .map(|(what, sent)| (what.to_owned(), sent))
        .collect();
        out.extend(self.particular(ty, name));
        out
    }

    /// The values that are wrong for `ty` in particular; for an input object, each of its
    /// fields malformed inside an otherwise valid object.
    fn particular(&self, ty: &TypeRef, name: &str) -> Vec<(String, Sent)> {
        let ty = if ty.kind == "NON_NULL" {
            ty.inner()
        } else {
            ty
        };
        let mut out = Vec::new();
        if ty.kind == "LIST" {
            let item = self.valid(ty.inner(), name);
            out.push(("a list past the bound".into(), huge_list(&item, 1_001)));
            out.push(("a list of null".into(), Sent::both(json!([null]))));
            out.push(("a nested list".into(), Sent::both(json!([["x"]]))));
            for (what, sent) in self.particular(ty.inner(), name) {
                out.push((format!("[{what}]"), sent.listed()));
            }
            return out;
        }
        let named = ty.named();
        match (self.schema.kinds[named].as_str(), named) {
            ("INPUT_OBJECT", _) => {
                out.push(("an empty object".into(), Sent::raw("{}")));
                for field in &self.schema.inputs[named] {
                    for (what, sent) in self.malformed(&field.ty, &field.name) {
                        let object = self.object(named, Some((&field.name, &sent)));
                        out.push((format!("{}: {what}", field.name), object));
                    }
                }
            }
            ("ENUM", _) => {
                let first = &self.schema.enums[named][0];
                out.push(("a quoted enum".into(), Sent::both(json!(first))));
                out.push((
                    "a lower-case enum".into(),
                    Sent::enumeration(&first.to_lowercase()),
                ));
            }
            (_, "String") => out.extend(strings(name)),
            (_, "Int") => out.extend(ints()),
            (_, "ID") => out.extend(self.ids()),
            (_, "DateTime") => out.extend(date_times()),
            (_, "JSON") => out.extend(json_values()),
            _ => {}
        }
        out
    }

    fn ids(&self) -> Vec<(String, Sent)> {
        let encode = |text: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(text)
        };
        let f = self.fixture;
        let mut ids: Vec<(String, Sent)> = [
            ("an empty id", json!("")),
            ("a malformed id", json!("not an id!")),
            ("a numeric id", json!(1)),
            ("an id of no type", json!(encode("Nothing:1"))),
            ("an id without a key", json!(encode("Source:"))),
            ("a negative id", json!(encode("Source:-1"))),
            (
                "an id past i64",
                json!(encode("Source:99999999999999999999")),
            ),
            ("an id of key 0", json!(encode("Source:0"))),
            ("an id with a NUL", json!(encode("Source:1\u{0}"))),
            ("a huge id", json!("A".repeat(20_000))),
            ("a source id", json!(f.source)),
            ("a target id", json!(f.target)),
            ("a target listing id", json!(f.conflicted)),
            ("a source listing id", json!(f.source_property)),
            ("an API key id", json!(f.api_key)),
        ]
        .into_iter()
        .map(|(what, id)| (what.to_owned(), Sent::both(id)))
        .collect();
        for foreign in &f.foreign {
            ids.push(("another tenant's id".into(), Sent::both(json!(foreign))));
        }
        ids.push(("an id past u64".into(), Sent::raw("99999999999999999999")));
        ids
    }
}

fn huge_list(item: &Sent, len: usize) -> Sent {
    Sent {
        literal: item
            .literal
            .as_ref()
            .map(|l| format!("[{}]", vec![l.as_str(); len].join(","))),
        variable: item
            .variable
            .as_ref()
            .map(|v| Value::Array(vec![v.clone(); len])),
    }
}

fn strings(name: &str) -> Vec<(String, Sent)> {
    use base64::Engine as _;
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = vec![
        ("an empty string", json!("")),
        ("a blank string", json!("   ")),
        ("a huge string", json!("x".repeat(20_000))),
        ("a NUL character", json!("\u{0}")),
        ("control characters", json!("\u{1}\u{7f}\t\n")),
        ("a lone surrogate's replacement", json!("\u{fffd}\u{ffff}")),
        ("SQL", json!("' OR 1=1 --")),
        ("LIKE wildcards", json!("%_\\")),
        ("a deep dotted path", json!("a.".repeat(1_000) + "a")),
        ("an empty path segment", json!("a..b")),
        ("a dot", json!(".")),
        ("a JSON path", json!("$.a[0]")),
        ("a negative index", json!("images.-1")),
        ("a huge index", json!("images.99999999999999999999")),
    ];
    if matches!(name, "after" | "before") {
        out.extend([
            ("a cursor of junk", json!(encode("junk"))),
            ("a cursor of a negative key", json!(encode("-1"))),
            ("a cursor past i64", json!(encode("99999999999999999999"))),
            ("a cursor with a NUL", json!(encode("1\u{0}"))),
            (
                "a cursor of another type",
                json!(encode("cursor:v1:Source:1")),
            ),
            ("a non-base64 cursor", json!("!!!")),
        ]);
    }
    out.into_iter()
        .map(|(what, value)| (what.to_owned(), Sent::both(value)))
        .collect()
}

fn ints() -> Vec<(String, Sent)> {
    [
        ("2^31", Sent::both(json!(2_147_483_648_i64))),
        ("-1", Sent::both(json!(-1))),
        ("0", Sent::both(json!(0))),
        ("-2^31 - 1", Sent::both(json!(-2_147_483_649_i64))),
        ("i32::MAX", Sent::both(json!(i32::MAX))),
        ("i32::MIN", Sent::both(json!(i32::MIN))),
        ("2^53 + 1", Sent::both(json!(9_007_199_254_740_993_i64))),
        ("u64::MAX", Sent::both(json!(u64::MAX))),
        ("a numeric string", Sent::both(json!("1"))),
        ("an exponent", Sent::raw("1e3")),
        ("past u64", Sent::raw("99999999999999999999")),
    ]
    .into_iter()
    .map(|(what, sent)| (what.to_owned(), sent))
    .collect()
}

fn date_times() -> Vec<(String, Sent)> {
    [
        ("yesterday", json!("yesterday")),
        ("an empty date", json!("")),
        ("month 13", json!("2026-13-45T00:00:00Z")),
        ("a date without time", json!("2026-01-01")),
        ("year 275760", json!("+275760-09-13T00:00:00Z")),
        ("year 0", json!("0000-01-01T00:00:00Z")),
        ("an offset past a day", json!("2026-01-01T00:00:00+25:00")),
        ("a timestamp number", json!(1_700_000_000)),
    ]
    .into_iter()
    .map(|(what, value)| (what.to_owned(), Sent::both(value)))
    .collect()
}

fn json_values() -> Vec<(String, Sent)> {
    let mut deep_object = json!({ "id": "deep" });
    let mut deep_array = json!(["deep"]);
    for _ in 0..200 {
        deep_object = json!({ "id": "deep", "a": deep_object });
        deep_array = json!([deep_array]);
    }
    let many: Vec<Value> = (0..500).map(|i| json!({ "id": format!("m{i}") })).collect();
    let mut out: Vec<(String, Sent)> = [
        ("zero", json!(0)),
        ("-1", json!(-1)),
        ("a float", json!(0.1)),
        ("a huge float", json!(1e308)),
        ("u64::MAX", json!(u64::MAX)),
        ("an empty string", json!("")),
        ("an empty object", json!({})),
        ("a deep object", deep_object),
        ("a deep array", deep_array),
        ("a list of numbers", json!([1, 2])),
        ("a list of null", json!([null])),
        ("many listings", Value::Array(many)),
        ("a null id", json!({ "id": null })),
        ("an object id", json!({ "id": { "a": 1 } })),
        ("a list id", json!({ "id": [1] })),
        ("a boolean id", json!({ "id": true })),
        ("a float id", json!({ "id": 1.5 })),
        ("a huge id", json!({ "id": u64::MAX })),
        ("an empty id", json!({ "id": "" })),
        ("a NUL id", json!({ "id": "a\u{0}" })),
        ("an id twice", json!([{ "id": "d" }, { "id": "d" }])),
        ("an empty key", json!({ "": 1, "id": "e" })),
        ("a NUL key", json!({ "a\u{0}": 1, "id": "n" })),
        ("an empty id_field", json!({ "id_field": "" })),
        ("a numeric id_field", json!({ "id_field": 7 })),
        ("a dotted id_field", json!({ "id_field": "a.b" })),
        ("an operator object", json!({ "price": { "$gt": 1 } })),
        (
            "a huge string",
            json!({ "id": "h", "t": "x".repeat(20_000) }),
        ),
    ]
    .into_iter()
    .map(|(what, value)| (what.to_owned(), Sent::both(value)))
    .collect();
    out.push(("a number past f64".into(), Sent::raw("1e400")));
    out.push(("a huge integer".into(), Sent::raw("18446744073709551616")));
    out
}

/// One request of the corpus.
struct Case {
    what: String,
    query: String,
    variables: Value,
}

/// Requests for every argument of `field` (on `root`, reached through `path`).
fn cases_of(corpus: &Corpus<'_>, root: &str, path: &[String], field: &FieldDef) -> Vec<Case> {
    let keyword = if root == "Mutation" {
        "mutation"
    } else {
        "query"
    };
    let selection = if corpus.schema.fields.contains_key(field.ty.named()) {
        " { __typename }"
    } else {
        ""
    };
    let wrap = |inner: String| {
        path.iter()
            .rev()
            .fold(inner, |inner, name| format!("{name} {{ {inner} }}"))
    };
    let mut cases = Vec::new();
    for arg in &field.args {
        let others: Vec<String> = field
            .args
            .iter()
            .filter(|other| other.name != arg.name && other.required())
            .map(|other| {
                let valid = corpus.valid(&other.ty, &other.name);
                format!("{}: {}", other.name, valid.literal.unwrap())
            })
            .collect();
        for (what, sent) in corpus.malformed(&arg.ty, &arg.name) {
            let what = format!(
                "{root} {} {}({}: {what})",
                path.join("."),
                field.name,
                arg.name
            );
            let mut args = others.clone();
            if let Some(literal) = sent.literal {
                args.push(format!("{}: {literal}", arg.name));
                let inner = format!("{}({}){selection}", field.name, args.join(", "));
                cases.push(Case {
                    what: format!("{what} as a literal"),
                    query: format!("{keyword} {{ {} }}", wrap(inner)),
                    variables: json!({}),
                });
                args.pop();
            }
            if let Some(variable) = sent.variable {
                args.push(format!("{}: $v", arg.name));
                let inner = format!("{}({}){selection}", field.name, args.join(", "));
                cases.push(Case {
                    what: format!("{what} as a variable"),
                    query: format!("{keyword}($v: {}) {{ {} }}", arg.ty.written(), wrap(inner)),
                    variables: json!({ "v": variable }),
                });
            }
        }
    }
    cases
}

/// What is wrong with one answer: an error without a code, or with `INTERNAL`, or a 5xx.
fn fault(status: axum::http::StatusCode, body: &[u8]) -> Option<String> {
    if status.is_server_error() && status != axum::http::StatusCode::SERVICE_UNAVAILABLE {
        return Some(format!("status {status}"));
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Some(format!("not JSON: {}", String::from_utf8_lossy(body)));
    };
    for error in body["errors"].as_array().into_iter().flatten() {
        match error["extensions"]["code"].as_str() {
            None => return Some(format!("an error without a code: {error}")),
            Some("INTERNAL" | "SERVICE_UNAVAILABLE") => return Some(format!("{error}")),
            Some(_) => {}
        }
    }
    None
}

/// Sends `case` through the router; returns what is wrong with its answer.
async fn send_case(router: axum::Router, key: String, case: Case) -> Option<String> {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-api-key", key)
        .header("x-admin-token", crate::common::ADMIN_TOKEN)
        .body(Body::from(
            json!({ "query": case.query, "variables": case.variables }).to_string(),
        ))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    fault(status, &body).map(|fault| {
        let query: String = case.query.chars().take(300).collect();
        format!("{}: {fault}\n    query: {query}", case.what)
    })
}

/// Two tenants with sources, targets, listings, a sync, snapshots and an open conflict.
async fn fixture(app: &TestApp) -> (String, Fixture) {
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let target = app.create_target(&key, "Site").await;
    let import = "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { id } } }";
    let sync = "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { id } } }";
    let listings = json!([
        { "id": "l1", "price": 1, "title": "a", "images": ["x"] },
        { "id": "l2", "price": 2, "address": { "city": "Oslo" } },
    ]);
    app.data(&key, import, json!({ "s": source, "items": listings }))
        .await;
    app.data(&key, sync, json!({ "s": source, "t": target }))
        .await;
    let data = app
        .data(
            &key,
            "{ targets { nodes { properties(externalIds: [\"l1\"]) { nodes { id } } } } sources(first: 1) { edges { cursor } nodes { properties(first: 1) { nodes { id } } } } viewer { apiKeys { nodes { id } } } }",
            json!({}),
        )
        .await;
    // A key of its own, so that `revokeApiKey` with a valid id does not revoke the test's.
    let spare = app
        .data(
            &key,
            "mutation { createApiKey(input: { name: \"spare\" }) { apiKey { id } } }",
            json!({}),
        )
        .await;
    let conflicted = data["targets"]["nodes"][0]["properties"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.data(
        &key,
        "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { title: \"by hand\" } }) { targetProperty { id } } }",
        json!({ "id": conflicted }),
    )
    .await;
    let changed = json!([{ "id": "l1", "price": 5, "title": "a", "images": ["x"] }]);
    app.data(&key, import, json!({ "s": source, "items": changed }))
        .await;
    app.data(&key, sync, json!({ "s": source, "t": target }))
        .await;

    let (_, other_key) = app.create_tenant("Other").await;
    let other_source = app.create_source(&other_key, "Theirs").await;
    let other_target = app.create_target(&other_key, "Their site").await;
    app.data(
        &other_key,
        import,
        json!({ "s": other_source, "items": [{ "id": "t1" }] }),
    )
    .await;
    app.data(
        &other_key,
        sync,
        json!({ "s": other_source, "t": other_target }),
    )
    .await;
    let other = app
        .data(
            &other_key,
            "{ targets { nodes { properties { nodes { id } } } } viewer { apiKeys { nodes { id } } } }",
            json!({}),
        )
        .await;
    let fixture = Fixture {
        source,
        target,
        conflicted,
        source_property: data["sources"]["nodes"][0]["properties"]["nodes"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        api_key: spare["createApiKey"]["apiKey"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        cursor: data["sources"]["edges"][0]["cursor"]
            .as_str()
            .unwrap()
            .to_owned(),
        foreign: vec![
            other_source,
            other_target,
            other["targets"]["nodes"][0]["properties"]["nodes"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            other["viewer"]["apiKeys"]["nodes"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        ],
    };
    (key, fixture)
}

/// Every argument of every field (read by introspection: new fields are covered as they
/// come), and every field of every input object, gets malformed values as a literal and as
/// a variable: no answer has an error without a code or with `INTERNAL`, and the server
/// answers normally afterwards.
#[tokio::test]
async fn no_malformed_argument_is_answered_internal() {
    let app = TestApp::spawn().await;
    let (key, fixture) = fixture(&app).await;
    let schema = Schema::from(&app.data(&key, INTROSPECTION, json!({})).await);
    let paths = schema.paths();

    let mut queries = Vec::new();
    let mut mutations = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    for (ty, fields) in &schema.fields {
        let root = if ty == "Mutation" {
            "Mutation"
        } else {
            "Query"
        };
        let path = match (ty.as_str(), paths.get(ty)) {
            ("Mutation", _) => Vec::new(),
            (_, Some(path)) => path.clone(),
            (_, None) => continue,
        };
        for field in fields.iter().filter(|f| !f.args.is_empty()) {
            covered.insert(format!("{ty}.{}", field.name));
            let corpus = Corpus {
                schema: &schema,
                fixture: &fixture,
                field: field.name.clone(),
            };
            let cases = cases_of(&corpus, root, &path, field);
            if root == "Mutation" {
                mutations.extend(cases);
            } else {
                queries.extend(cases);
            }
        }
    }
    // The corpus reaches the fields that matter, root and nested.
    for field in [
        "Query.sources",
        "Query.node",
        "Query.nodes",
        "Query.syncLogs",
        "Source.properties",
        "SourceProperty.data",
        "SourceProperty.field",
        "TargetProperty.snapshots",
        "Tenant.apiKeys",
        "Mutation.importProperties",
        "Mutation.resolveConflict",
        "Mutation.createTenant",
    ] {
        assert!(covered.contains(field), "{field} not covered: {covered:?}");
    }
    let total = queries.len() + mutations.len();
    assert!(total > 3_000, "{total} cases");

    let mut faults = Vec::new();
    // Queries several at a time; mutations one by one, as they write.
    let mut pending = tokio::task::JoinSet::new();
    for case in queries {
        if pending.len() >= 4
            && let Some(done) = pending.join_next().await
        {
            faults.extend(done.unwrap());
        }
        pending.spawn(send_case(app.router.clone(), key.clone(), case));
    }
    while let Some(done) = pending.join_next().await {
        faults.extend(done.unwrap());
    }
    for case in mutations {
        faults.extend(send_case(app.router.clone(), key.clone(), case).await);
    }
    assert!(
        faults.is_empty(),
        "{} of {total} malformed requests were answered without a client error code:\n{}",
        faults.len(),
        faults.join("\n")
    );

    // The server still answers, and the cursor of the fixture still pages.
    let data = app
        .data(
            &key,
            "query($after: String) { viewer { name } sources(after: $after) { totalCount } }",
            json!({ "after": fixture.cursor }),
        )
        .await;
    assert_eq!(data["viewer"]["name"], "Acme");
}
