//! Conversations through the app (issue 15): a follow-up of a stored run is
//! sent the thread from the history (each model its own answers, the resolved
//! one where it had none), is recorded in that thread, carrying on with one
//! model is a follow-up of one model, an edited earlier turn makes a branch,
//! an unknown previous_id is refused naming the field, and a turn is deleted
//! with what follows it.

use crate::common::*;
use roundtable_app::Code;
use roundtable_app::core::thread::Context;
use roundtable_app::core::{ModelOutcome, Resolution};
use roundtable_testkit::Behavior;
use serde_json::Value;

fn follow_up(
    input: &str,
    previous: &str,
    models: &[&str],
) -> roundtable_app::core::RoundtableRequest {
    let mut req = request(input, models, Resolution::Fast);
    req.previous_id = Some(previous.into());
    req
}

/// The (role, content) of the messages the fake's last request for `model` had.
fn last_messages(f: &Fixture, model: &str) -> Vec<(String, String)> {
    let body = f
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.model == model)
        .unwrap()
        .body;
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text = match &m["content"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (m["role"].as_str().unwrap().to_string(), text)
        })
        .collect()
}

/// The text inside the fence a resolution's prompt puts around turn `turn`'s
/// answer; `None` when it has none.
fn earlier_fence(prompt: &str, turn: u32) -> Option<&str> {
    let tag = &prompt.split("<earlier-answer-").nth(1)?[..12];
    let open = format!("<earlier-answer-{tag} turn=\"{turn}\">\n");
    let inside = &prompt[prompt.find(&open)? + open.len()..];
    Some(&inside[..inside.find(&format!("\n</earlier-answer-{tag}>"))?])
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn a_follow_up_is_sent_its_thread_and_kept_in_it() {
    let f = Fixture::start(script()).await;
    let (first, _) = f.fast(&["fake/a", "fake/down"]).await;
    let first = first.unwrap().response;
    assert_eq!(first.model_results[1].outcome, Some(ModelOutcome::Failed));

    let (second, _) = f
        .run(follow_up(
            "And of the UK?",
            &first.id,
            &["fake/a", "fake/down", "fake/b"],
        ))
        .await;
    let second = second.unwrap().response;
    assert_eq!(
        last_messages(&f, "a"),
        pairs(&[
            ("user", "Capital?"),
            ("assistant", "Paris"),
            ("user", "And of the UK?")
        ])
    );
    // `b` was not on the first panel: the first turn's resolved answer (fast:
    // the first answer) stands in, and its result says so.
    assert_eq!(
        last_messages(&f, "b"),
        pairs(&[
            ("user", "Capital?"),
            ("assistant", "Paris"),
            ("user", "And of the UK?")
        ])
    );
    assert_eq!(second.model_results[2].context_resolved, Some(vec![1]));
    assert_eq!(second.model_results[0].context_resolved, None);

    // Recorded in the first run's thread, with its place in it.
    let thread = f.app.thread(&second.id).unwrap();
    let ids: Vec<&str> = thread.iter().map(|r| r.summary.id.as_str()).collect();
    assert_eq!(ids, [first.id.as_str(), second.id.as_str()]);
    assert_eq!(
        thread[1].summary.previous_id.as_deref(),
        Some(first.id.as_str())
    );
    assert_eq!(
        thread[1].response.model_results[2].context_resolved,
        Some(vec![1])
    );

    // Carry on with one model, from the resolved answers.
    let mut one = follow_up("Why?", &second.id, &["fake/b"]);
    one.context = Some(Context::Resolved);
    let (third, _) = f.run(one).await;
    third.unwrap();
    let sent = last_messages(&f, "b");
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert_eq!(sent[3], ("assistant".to_string(), "Paris".to_string()));

    // Editing the second prompt makes a branch beside it.
    let (branch, _) = f
        .run(follow_up("And of France?", &first.id, &["fake/a"]))
        .await;
    let branch = branch.unwrap().response;
    let thread = f.app.thread(&first.id).unwrap();
    assert_eq!(thread.len(), 4);
    assert_eq!(
        last_messages(&f, "a"),
        pairs(&[
            ("user", "Capital?"),
            ("assistant", "Paris"),
            ("user", "And of France?")
        ])
    );

    // A turn's branch runs from the first turn to the latest that follows it;
    // the export of the thread is that branch, turn by turn.
    let third_id = f.app.thread(&second.id).unwrap()[2].summary.id.clone();
    assert_eq!(
        f.app.branch_of(&second.id).unwrap(),
        [first.id.clone(), second.id.clone(), third_id]
    );
    assert_eq!(
        f.app.branch_of(&branch.id).unwrap(),
        [first.id.clone(), branch.id.clone()]
    );
    let md = f
        .app
        .export_thread(&second.id, roundtable_app::ExportFormat::Md)
        .unwrap();
    let (q1, q2, q3) = (
        md.find("Capital?").unwrap(),
        md.find("And of the UK?").unwrap(),
        md.find("Why?").unwrap(),
    );
    assert!(q1 < q2 && q2 < q3, "turn by turn");
    assert!(!md.contains("And of France?"), "not the other branch");

    // Deleting the second turn takes the turn that followed it, not the branch.
    assert_eq!(f.app.delete_turn_and_after(&second.id).unwrap(), 2);
    let left: Vec<String> = f
        .app
        .thread(&first.id)
        .unwrap()
        .into_iter()
        .map(|r| r.summary.id)
        .collect();
    assert_eq!(left, [first.id.clone(), branch.id.clone()]);
    assert_eq!(f.app.delete_thread(&branch.id).unwrap(), 2);
    assert_eq!(f.app.thread(&first.id).unwrap_err().code, Code::NotFound);
}

#[tokio::test]
async fn an_unknown_previous_id_is_refused_naming_the_field() {
    let f = Fixture::start(script()).await;
    let (out, _) = f.run(follow_up("Hi", "rt_nope", &["fake/a"])).await;
    let e = out.unwrap_err();
    assert_eq!(e.code, Code::InvalidRequest);
    assert_eq!(e.field.as_deref(), Some("previous_id"));
    assert!(e.message.contains("rt_nope"), "{e:?}");
    assert_eq!(f.fake.calls_for("a"), 0);
}

#[tokio::test]
async fn the_estimate_of_a_follow_up_counts_its_thread() {
    let f = Fixture::start(script()).await;
    let (first, _) = f.fast(&["fake/a"]).await;
    let first = first.unwrap().response;
    let plain = f
        .app
        .estimate(&request("And?", &["fake/a"], Resolution::Fast))
        .unwrap();
    let follow = f
        .app
        .estimate(&follow_up("And?", &first.id, &["fake/a"]))
        .unwrap();
    assert!(follow.calls[0].input_tokens > plain.calls[0].input_tokens);
}

#[tokio::test]
async fn a_turn_resolved_again_reads_the_conversation() {
    let f = Fixture::start(script()).await;
    let (first, _) = f.fast(&["fake/a"]).await;
    let first = first.unwrap().response;
    let (second, _) = f
        .run(follow_up(
            "And of the UK?",
            &first.id,
            &["fake/a", "fake/b"],
        ))
        .await;
    let second = second.unwrap().response;
    let out = f
        .app
        .reresolve(
            &second.id,
            roundtable_app::Reresolve {
                resolution: Resolution::Summary,
                summary_model: Some("fake/b".into()),
                ..Default::default()
            },
            &Events::default(),
            tokio_util::sync::CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(
        out.response.meta.summary_error.is_none(),
        "{:?}",
        out.response.meta
    );
    let summary = &last_messages(&f, "b")[0].1;
    assert!(summary.contains("### Turn 1\n\nCapital?"), "{summary}");
    assert_eq!(earlier_fence(summary, 1), Some("Paris"), "{summary}");
    // The re-resolution is a turn of the same conversation.
    assert_eq!(f.app.thread(&first.id).unwrap().len(), 3);
}

#[tokio::test]
async fn a_turn_is_judged_with_the_conversation_before_it() {
    let ranking =
        r#"{"ranking": [{"response": "A", "reason": "x"}, {"response": "B", "reason": "y"}]}"#;
    let f = Fixture::start(script().model("judge", Behavior::answer(ranking))).await;
    let (first, _) = f.fast(&["fake/a"]).await;
    let first = first.unwrap().response;
    let (second, _) = f
        .run(follow_up(
            "And of the UK?",
            &first.id,
            &["fake/a", "fake/b"],
        ))
        .await;
    let second = second.unwrap().response;
    f.app
        .judge(
            &second.id,
            "fake/judge",
            tokio_util::sync::CancellationToken::new(),
        )
        .await
        .unwrap();
    let prompt = &last_messages(&f, "judge")[0].1;
    assert!(prompt.contains("### Turn 1\n\nCapital?"), "{prompt}");
    assert_eq!(earlier_fence(prompt, 1), Some("Paris"), "{prompt}");
    let at = |s: &str| prompt.find(s).unwrap();
    assert!(
        at("### Turn 1") < at("## Question\n\nAnd of the UK?"),
        "{prompt}"
    );
}

#[tokio::test]
async fn a_follow_up_sends_no_more_files_than_the_thread_limits() {
    use base64::Engine as _;
    let f = Fixture::with_config(script(), |url| {
        format!(
            "[providers.fake]\nformat = \"openai\"\nbase_url = \"{url}\"\nmax_concurrency = 64\n\
             [limits]\nmax_thread_attachments = 2\nmax_thread_attachment_bytes = 2500\n"
        )
    })
    .await;
    let file = |name: &str, bytes: usize| roundtable_app::core::Attachment {
        name: name.into(),
        media_type: "text/plain".into(),
        data: base64::engine::general_purpose::STANDARD.encode("x".repeat(bytes)),
        ..Default::default()
    };
    let mut first = request("Capital?", &["fake/a"], Resolution::Fast);
    first.attachments = vec![file("one.txt", 1000)];
    let first = f.run(first).await.0.unwrap().response;
    let calls = f.fake.calls_for("a");

    // 1000 bytes before and 2000 now: over 2500 bytes in all.
    let mut big = follow_up("And?", &first.id, &["fake/a"]);
    big.attachments = vec![file("two.txt", 2000)];
    let e = f.run(big).await.0.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("previous_id"), "{e:?}");
    assert!(e.message.contains("max_thread_attachment_bytes"), "{e:?}");
    assert!(
        e.message.contains("2.9 KB") || e.message.contains("3 KB"),
        "{e:?}"
    );

    // Three files in all, over two.
    let mut many = follow_up("And?", &first.id, &["fake/a"]);
    many.attachments = vec![file("two.txt", 10), file("three.txt", 10)];
    let e = f.run(many).await.0.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("previous_id"), "{e:?}");
    assert!(
        e.message.contains("3 files") && e.message.contains("max_thread_attachments"),
        "{e:?}"
    );
    assert_eq!(
        f.fake.calls_for("a"),
        calls,
        "a refused turn calls no model"
    );

    // Within both, the earlier file is sent again.
    let mut fits = follow_up("And?", &first.id, &["fake/a"]);
    fits.attachments = vec![file("two.txt", 1000)];
    f.run(fits).await.0.unwrap();
    assert_eq!(f.fake.calls_for("a"), calls + 1);
}
