//! Preferences: written into `config.toml` keeping the user's comments and
//! entries, read back (by this app and the next one opened), refused whole
//! when a value is wrong; the default summary model applies to the next run.

use crate::common::{Fixture, open, request, script};
use roundtable_app::Code;
use roundtable_app::config::Theme;
use roundtable_app::core::{Resolution, RunEvent};
use roundtable_app::prefs::Prefs;

async fn commented() -> Fixture {
    Fixture::with_config(script(), |base_url| {
        format!(
            "# my settings\n[providers.fake]   # the fake\nformat = \"openai\"\nbase_url = \"{base_url}\"\n"
        )
    })
    .await
}

fn prefs() -> Prefs {
    Prefs {
        default_models: vec!["fake/a".into(), " fake/b ".into(), "".into()],
        default_summary_model: Some("fake/b".into()),
        theme: Theme::Dark,
        local_api: true,
        local_api_port: 9100,
        budget: None,
    }
}

#[tokio::test]
async fn prefs_written_are_read_back_and_the_rest_of_the_file_is_kept() {
    let fx = commented().await;
    let saved = fx.app.save_prefs(&prefs()).unwrap();
    assert_eq!(saved.default_models, ["fake/a", "fake/b"]);
    assert_eq!(fx.app.prefs().unwrap(), saved);
    assert_eq!(fx.app.default_summary_model().as_deref(), Some("fake/b"));

    let text = std::fs::read_to_string(fx.config_path()).unwrap();
    assert!(
        text.contains("# my settings\n[providers.fake]   # the fake\n"),
        "{text}"
    );
    // The next app opened on this home reads them too.
    let next = open(fx.home.path());
    assert_eq!(next.prefs().unwrap(), saved);
    assert_eq!(next.config().default_models, ["fake/a", "fake/b"]);
    assert_eq!(next.config().server.port, 9100);
}

#[tokio::test]
async fn wrong_prefs_are_refused_and_the_file_left_alone() {
    let fx = commented().await;
    let before = std::fs::read_to_string(fx.config_path()).unwrap();
    let unknown = Prefs {
        default_models: vec!["nosuch/x".into()],
        ..prefs()
    };
    let e = fx.app.save_prefs(&unknown).unwrap_err();
    assert_eq!(e.code, Code::InvalidRequest, "{e:?}");
    assert!(e.message.contains("nosuch"), "{e}");
    let port = Prefs {
        local_api_port: 0,
        ..prefs()
    };
    assert!(fx.app.save_prefs(&port).is_err());
    assert_eq!(std::fs::read_to_string(fx.config_path()).unwrap(), before);
    assert_eq!(fx.app.default_summary_model(), None);
}

#[tokio::test]
async fn the_default_summary_model_saved_writes_the_next_summary() {
    let fx = commented().await;
    let summarised_by = async |fx: &Fixture| {
        let (out, events) = fx
            .run(request(
                "Capital?",
                &["fake/a", "fake/b"],
                Resolution::Summary,
            ))
            .await;
        let out = out.unwrap();
        assert!(
            out.response.meta.summary_error.is_none(),
            "{:?}",
            out.response.meta
        );
        events.all().into_iter().find_map(|e| match e {
            RunEvent::ConsolidationStarted { model } => Some(model),
            _ => None,
        })
    };
    // None saved: the first model that answered (a or b, whichever was first).
    let first = summarised_by(&fx).await.unwrap();
    assert!(["fake/a", "fake/b"].contains(&first.as_str()), "{first}");
    for model in ["fake/a", "fake/b"] {
        fx.app
            .save_prefs(&Prefs {
                default_summary_model: Some(model.into()),
                ..prefs()
            })
            .unwrap();
        assert_eq!(summarised_by(&fx).await.as_deref(), Some(model));
    }
}
