//! A property of the request validator over arbitrary requests (choices,
//! models, inputs; many and long choices, repeats up to case and blanks): it
//! answers every one, what it accepts is within the limits, and what it
//! refuses is refused naming a field the request has. `--nocapture` shows the
//! number of cases run.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use roundtable_core::validate::{MAX_CHOICE_BYTES, MAX_CHOICES, validate_request};
use roundtable_core::{ModelSpec, Resolution, RoundtableRequest};
use std::collections::HashSet;

/// Cases per property: some carry thousands of choices.
const CASES: u32 = 64;

fn known(p: &str) -> bool {
    matches!(p, "openai" | "fake")
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ a-cA-C/]{0,6}",
        "\\PC{0,12}",
        Just(" ".repeat(4_096)),
        (900usize..1_100).prop_map(|n| "x".repeat(n)),
    ]
}

/// Mostly a valid model, so that most requests reach the choices.
fn model() -> impl Strategy<Value = ModelSpec> {
    let any_model = (
        prop_oneof!["(openai|fake|nope)/[a-z0-9.-]{0,8}", "[a-z/]{0,6}"],
        prop::option::of(-1.0f64..3.0),
        prop::option::of(-0.5f64..1.5),
        prop::option::of(0u32..40),
        prop::option::of(0u32..3),
    )
        .prop_map(
            |(name, temperature, top_p, samples, max_tokens)| ModelSpec {
                temperature,
                top_p,
                samples,
                max_tokens,
                ..ModelSpec::named(name)
            },
        );
    prop_oneof![
        6 => "(openai|fake)/[a-z0-9]{1,8}".prop_map(ModelSpec::named),
        1 => any_model,
    ]
}

/// Choices: few or thousands; short, blank, long, or a repeat of another up
/// to case and blanks.
fn choices() -> impl Strategy<Value = Option<Vec<String>>> {
    let list = prop_oneof![
        4 => prop::collection::vec(text(), 0..8),
        1 => (1usize..4_000).prop_map(|n| (0..n).map(|i| format!("c{i}")).collect()),
    ];
    prop::option::of(
        (list, any::<prop::sample::Index>(), any::<bool>()).prop_map(|(mut list, at, repeat)| {
            if repeat && !list.is_empty() {
                let copy = format!("  {} ", list[at.index(list.len())].to_uppercase());
                list.push(copy);
            }
            list
        }),
    )
}

fn request() -> impl Strategy<Value = RoundtableRequest> {
    (
        prop_oneof![4 => "[a-z]{1,8}", 1 => text()],
        prop_oneof![9 => prop::collection::vec(model(), 1..3), 1 => Just(Vec::new())],
        choices(),
        prop_oneof![
            Just(None),
            Just(Some(Resolution::MultipleChoice)),
            Just(Some(Resolution::Fast)),
        ],
    )
        .prop_map(|(input, models, choices, resolution)| RoundtableRequest {
            input,
            models,
            choices,
            resolution,
            ..Default::default()
        })
}

#[test]
fn any_request_is_answered_within_the_limits_or_refused_naming_its_field() {
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    // Requests that reached the choices: accepted, or refused for them.
    let reached = std::cell::Cell::new(0);
    runner
        .run(&request(), |req| {
            let choices = req.choices.clone().unwrap_or_default();
            match validate_request(&req, &known) {
                Ok(()) => {
                    reached.set(reached.get() + 1);
                    prop_assert!(!req.input.trim().is_empty());
                    prop_assert!(!req.models.is_empty());
                    prop_assert!(choices.len() <= MAX_CHOICES);
                    prop_assert!(choices.iter().all(|c| c.len() <= MAX_CHOICE_BYTES));
                    if req.resolution == Some(Resolution::MultipleChoice) {
                        prop_assert!(choices.len() >= 2);
                        let keys: HashSet<String> = choices
                            .iter()
                            .map(|c| c.trim().to_ascii_lowercase())
                            .collect();
                        prop_assert_eq!(keys.len(), choices.len(), "no repeat");
                    }
                }
                Err(e) => {
                    let field = e.field.as_str();
                    if field.starts_with("choices") {
                        reached.set(reached.get() + 1);
                    }
                    let index = |prefix: &str| {
                        field
                            .strip_prefix(prefix)
                            .and_then(|rest| rest.split(']').next())
                            .and_then(|i| i.parse::<usize>().ok())
                    };
                    if let Some(i) = index("choices[") {
                        prop_assert!(i < choices.len(), "{}", e);
                    } else if let Some(i) = index("models[") {
                        prop_assert!(i < req.models.len(), "{}", e);
                    } else {
                        prop_assert!(["input", "models", "choices"].contains(&field), "{}", e);
                    }
                    if field == "choices" && choices.len() > MAX_CHOICES {
                        prop_assert!(e.message.contains(&MAX_CHOICES.to_string()));
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    println!("{CASES} cases, {} reached the choices", reached.get());
    assert!(reached.get() >= CASES / 4, "{}", reached.get());
}
