//! Samples of one model over the API (issue 17): `samples` in a model entry is
//! accepted, the response and every stream chunk still validate against the
//! contract, `server.max_models` counts every sample, and an invalid value is a
//! 400 naming `models[0].samples`.

use crate::common::{Server, check_error, check_response, sse_payloads};
use roundtable_server::ServeOptions;
use roundtable_testkit::{Behavior, Script, contract};
use serde_json::{Value, json};

fn script() -> Script {
    Script::new()
        .model("a", Behavior::answer("Paris"))
        .model("b", Behavior::answer("London"))
}

async fn server() -> Server {
    Server::start_with(
        script(),
        ServeOptions {
            max_models: Some(4),
            ..Default::default()
        },
    )
    .await
}

fn body(models: Value) -> Value {
    json!({"input": "Capital of France?", "models": models})
}

#[tokio::test]
async fn samples_are_results_numbered_in_the_response_and_the_stream() {
    let s = server().await;
    let mut b = body(json!([{"name": "fake/a", "samples": 3}, {"name": "fake/b"}]));
    b["resolution"] = json!("multiple_choice");
    b["choices"] = json!(["Paris", "London"]);
    let r = s.post(&b).send().await.unwrap();
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    check_response(&v);
    let results = v["model_results"].as_array().unwrap();
    let numbered: Vec<_> = results
        .iter()
        .map(|m| {
            (
                m["index"].clone(),
                m["model"].clone(),
                m.get("sample").cloned(),
            )
        })
        .collect();
    assert_eq!(
        numbered,
        [
            (json!(0), json!("fake/a"), Some(json!(1))),
            (json!(1), json!("fake/a"), Some(json!(2))),
            (json!(2), json!("fake/a"), Some(json!(3))),
            (json!(3), json!("fake/b"), None),
        ]
    );
    assert_eq!(v["meta"]["votes"], json!({"Paris": 3, "London": 1}));
    assert_eq!(v["data"], "Paris");

    // The stored run's request is the expanded panel, and its results say
    // their samples as the response did.
    let stored = s.app.get_run(v["id"].as_str().unwrap()).unwrap();
    assert_eq!(stored.request.models.len(), 4);
    assert_eq!(
        serde_json::to_value(&stored.response.model_results).unwrap(),
        v["model_results"]
    );

    b["stream"] = json!(true);
    let payloads = sse_payloads(s.post(&b).send().await.unwrap()).await;
    assert_eq!(payloads.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = payloads[..payloads.len() - 1]
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    for c in &chunks {
        let errors = contract::errors("RoundtableStreamChunk", c);
        assert!(errors.is_empty(), "{errors:?}\n{c}");
    }
    let indices: Vec<_> = chunks
        .iter()
        .filter(|c| c["type"] == "model_result")
        .map(|c| c["model_index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices.len(), 4, "{indices:?}");
    let done = chunks.last().unwrap();
    assert_eq!(done["type"], "done");
    check_response(&done["response"]);
    assert_eq!(done["response"]["model_results"][2]["sample"], 3);
}

#[tokio::test]
async fn invalid_samples_and_too_many_samples_are_400_naming_the_field() {
    let s = server().await;
    let cases = [
        (
            json!([{"name": "fake/a", "samples": 0}]),
            "models[0].samples",
        ),
        (
            json!([{"name": "fake/a", "samples": 33}]),
            "models[0].samples",
        ),
        (
            json!([{"name": "fake/a", "samples": -1}]),
            "models[0].samples",
        ),
        (
            json!([{"name": "fake/a", "samples": "3"}]),
            "models[0].samples",
        ),
        // Four allowed: three samples and two more models are five calls.
        (
            json!([{"name": "fake/a", "samples": 3}, {"name": "fake/b"}, {"name": "fake/b"}]),
            "models",
        ),
        (json!([{"name": "fake/a", "samples": 5}]), "models"),
    ];
    for (models, field) in cases {
        let b = body(models);
        let r = s.post(&b).send().await.unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 400, "{b}: {v}");
        check_error(&v);
        assert_eq!(v["error"]["details"]["field"], field, "{b}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{v}"
        );
    }
    assert!(s.fake.requests().is_empty());
}
