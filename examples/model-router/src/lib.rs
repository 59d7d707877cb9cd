//! model-router: a Bifrost WASM plugin that sends requests for some models
//! to others, and gives the routed requests a system prompt.
//!
//! Config: `{"routes": {"gpt-4": "gpt-4o-mini"}, "system_prompt": "…"}`,
//! both optional. In `pre_hook`, a request whose model has a route gets the
//! route's model, the system prompt (if configured) as its first message,
//! and the original model in the context under `original-model`. A request
//! for any other model goes on byte for byte as it came. (Only chat and
//! Responses API requests get the system prompt: the other kinds have no
//! message list.)

// The SDK's generated exports are the only unsafe code, and they live in the SDK.
#![deny(unsafe_code)]

use std::collections::BTreeMap;

use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde::Deserialize;

/// The context key the original model is recorded under.
pub const ORIGINAL_MODEL: &str = "original-model";

/// The plugin's configuration, as Bifrost passes it to `init`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(crate = "bifrost_plugin_sdk::serde", default, deny_unknown_fields)]
pub struct Config {
    /// Requested model → the model to use instead.
    pub routes: BTreeMap<String, String>,
    /// Put first, as a system message, into every routed request.
    pub system_prompt: Option<String>,
}

/// The router: its routes and its system prompt.
pub struct ModelRouter {
    routes: BTreeMap<String, String>,
    system_prompt: Option<String>,
}

impl ModelRouter {
    /// The model a request for `model` is sent to, if it has a route.
    pub fn route(&self, model: &str) -> Option<&str> {
        self.routes.get(model).map(String::as_str)
    }
}

#[bifrost_plugin(name = "model-router")]
impl Plugin for ModelRouter {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        if let Some((from, _)) = config.routes.iter().find(|(_, to)| to.trim().is_empty()) {
            return Err(PluginError::new(format!(
                "config field `routes.{from}` must be a model name, got an empty string"
            )));
        }
        Ok(ModelRouter {
            routes: config.routes,
            system_prompt: config.system_prompt,
        })
    }

    fn pre_hook(&mut self, ctx: &mut Context, mut req: LlmRequest) -> Result<PreHook, PluginError> {
        let Some((original, routed)) = req
            .model()
            .and_then(|model| Some((model.to_string(), self.route(model)?.to_string())))
        else {
            // Not read-modified: the SDK sends the host's bytes back as they came.
            return Ok(PreHook::Continue(req));
        };
        req.set_model(routed);
        // Only chat and Responses API requests have a message list; a text
        // completion or an embedding request keeps its shape.
        let has_messages = matches!(req.kind(), RequestKind::Chat | RequestKind::Responses);
        if let (Some(prompt), true) = (&self.system_prompt, has_messages) {
            req.insert_message(0, ChatMessage::system(prompt));
        }
        ctx.set(ORIGINAL_MODEL, original);
        Ok(PreHook::Continue(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_sdk::serde_json;

    const CONFIG: &str = r#"{"routes":{"gpt-4":"gpt-4o-mini"},"system_prompt":"Be brief."}"#;

    fn router(config: &str) -> ModelRouter {
        ModelRouter::init(serde_json::from_str(config).unwrap()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn request(json: &str) -> LlmRequest {
        serde_json::from_str(json).unwrap()
    }

    fn routed(router: &mut ModelRouter, req: LlmRequest) -> (LlmRequest, Context) {
        let mut ctx = Context::new();
        match router.pre_hook(&mut ctx, req).unwrap() {
            PreHook::Continue(req) => (req, ctx),
            other => panic!("short-circuited: {other:?}"),
        }
    }

    fn roles_and_texts(req: &LlmRequest) -> Vec<(String, String)> {
        req.messages()
            .map(|m| (m.role().unwrap_or("").into(), m.text().unwrap_or("").into()))
            .collect()
    }

    #[test]
    fn both_fields_are_optional() {
        let config: Config = serde_json::from_str("{}").unwrap();
        assert_eq!(config, Config::default());
        assert!(config.routes.is_empty() && config.system_prompt.is_none());
    }

    #[test]
    fn a_routed_chat_request_gets_the_new_model_and_the_system_prompt_first() {
        let mut router = router(CONFIG);
        let req = request(
            r#"{"provider":"openai","model":"gpt-4","input":[{"role":"system","content":"Old."},{"role":"user","content":"Hi"}]}"#,
        );
        let (req, ctx) = routed(&mut router, req);
        assert_eq!(req.model(), Some("gpt-4o-mini"));
        assert_eq!(
            roles_and_texts(&req),
            [("system", "Be brief."), ("system", "Old."), ("user", "Hi")]
                .map(|(r, t)| (r.to_string(), t.to_string()))
        );
        assert_eq!(ctx.get_str(ORIGINAL_MODEL), Some("gpt-4"));
    }

    #[test]
    fn without_a_system_prompt_only_the_model_changes() {
        let mut router = router(r#"{"routes":{"gpt-4":"gpt-4o-mini"}}"#);
        let (req, ctx) = routed(
            &mut router,
            request(r#"{"model":"gpt-4","input":[{"role":"user","content":"Hi"}]}"#),
        );
        assert_eq!(req.model(), Some("gpt-4o-mini"));
        assert_eq!(req.message_count(), 1);
        assert_eq!(ctx.get_str(ORIGINAL_MODEL), Some("gpt-4"));
    }

    #[test]
    fn other_models_are_not_touched() {
        let mut router = router(CONFIG);
        for json in [
            r#"{"model":"gpt-4o","input":[{"role":"user","content":"Hi"}]}"#,
            r#"{"model":"GPT-4","input":[]}"#,
            r#"{"input":[]}"#,
        ] {
            let (req, ctx) = routed(&mut router, request(json));
            assert!(req.is_unchanged(), "{json}");
            assert!(ctx.is_empty(), "{json}");
        }
    }

    #[test]
    fn a_routed_text_completion_keeps_its_shape() {
        let mut router = router(CONFIG);
        let (req, _) = routed(
            &mut router,
            request(r#"{"text_completion_request":{"model":"gpt-4","prompt":"Once"}}"#),
        );
        assert_eq!(req.kind(), RequestKind::TextCompletion);
        assert_eq!(req.model(), Some("gpt-4o-mini"));
        assert_eq!(req.message_count(), 0);
    }

    #[test]
    fn an_empty_route_target_fails_init_naming_the_route() {
        let config = serde_json::from_str(r#"{"routes":{"gpt-4":" "}}"#).unwrap();
        let err = ModelRouter::init(config).err().unwrap();
        assert!(err.to_string().contains("`routes.gpt-4`"), "{err}");
    }
}
