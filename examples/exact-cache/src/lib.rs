//! exact-cache: a Bifrost WASM plugin that answers a repeated LLM request
//! from a bounded cache instead of calling the provider again.
//!
//! Config: `{"max_entries": N}`. `pre_hook` looks the request up by its
//! identity (kind, model, messages and params: [`LlmRequest::identity`]); a
//! hit is answered at once (a short-circuit), whatever its `request_id`. A
//! miss is remembered under the context's `request_id`, and `post_hook`
//! stores the response to it. Both the cache and the requests waiting for
//! their response hold at most N entries, the least recently used evicted
//! first, so a host that never calls `post_hook` cannot grow the plugin's
//! memory without bound. Only chat, text completion, Responses API and
//! embedding requests are cached; an error is never cached.

// The SDK's generated exports are the only unsafe code, and they live in the SDK.
#![deny(unsafe_code)]

use std::num::NonZeroUsize;

use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde::Deserialize;
use bifrost_plugin_sdk::RequestMap;
use lru::LruCache;

/// The plugin's configuration, as Bifrost passes it to `init`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(crate = "bifrost_plugin_sdk::serde", default, deny_unknown_fields)]
pub struct Config {
    /// How many responses the cache holds (required, at least 1); also how
    /// many requests may wait for their response at once.
    pub max_entries: Option<usize>,
}

/// A least-recently-used map that holds at most `cap` entries. It grows as
/// it is filled: `LruCache::new(cap)` would reserve room for `cap` entries at
/// once, so a large `max_entries` would take memory (or abort) at `init`.
struct Bounded<V> {
    map: LruCache<String, V>,
    cap: usize,
}

impl<V> Bounded<V> {
    fn new(cap: NonZeroUsize) -> Self {
        Bounded {
            map: LruCache::unbounded(),
            cap: cap.get(),
        }
    }

    /// Inserts (or refreshes) `key`, evicting the least recently used entry
    /// when that makes one too many.
    fn put(&mut self, key: String, value: V) {
        self.map.put(key, value);
        if self.map.len() > self.cap {
            self.map.pop_lru();
        }
    }
}

/// The cache and the requests waiting for their response.
pub struct ExactCache {
    /// Request identity → the response it got.
    responses: Bounded<LlmResponse>,
    /// `request_id` → identity, for requests sent on to the provider (the
    /// oldest forgotten first).
    pending: RequestMap<String>,
}

impl ExactCache {
    /// How many responses are cached.
    pub fn len(&self) -> usize {
        self.responses.map.len()
    }

    /// Whether no response is cached.
    pub fn is_empty(&self) -> bool {
        self.responses.map.is_empty()
    }

    /// How many requests wait for their response.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// The kinds whose answer depends only on the request: text in, text (or
/// vectors) out. Others (audio, images, model lists, pass-through) go on.
fn cacheable(kind: RequestKind) -> bool {
    matches!(
        kind,
        RequestKind::Chat
            | RequestKind::TextCompletion
            | RequestKind::Responses
            | RequestKind::Embedding
    )
}

#[bifrost_plugin(name = "exact-cache")]
impl Plugin for ExactCache {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        let capacity = match config.max_entries {
            None => {
                Err("config field `max_entries` is required (a number of responses, at least 1)")
            }
            Some(n) => {
                NonZeroUsize::new(n).ok_or("config field `max_entries` must be at least 1, got 0")
            }
        }
        .map_err(PluginError::new)?;
        Ok(ExactCache {
            responses: Bounded::new(capacity),
            pending: RequestMap::new(capacity.get()),
        })
    }

    fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        if !cacheable(req.kind()) {
            return Ok(PreHook::Continue(req));
        }
        let identity = req.identity();
        if let Some(response) = self.responses.map.get(&identity) {
            return Ok(PreHook::Respond(response.clone()));
        }
        // Without a request_id the response cannot be matched to it later.
        if let Some(id) = ctx.request_id() {
            self.pending.insert(id, identity);
        }
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        let identity = ctx.request_id().and_then(|id| self.pending.remove(id));
        if let (Some(identity), Some(response), None) = (identity, &response, &error) {
            self.responses.put(identity, response.clone());
        }
        Ok(PostHook::new(response, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_sdk::serde_json;

    fn cache(max_entries: usize) -> ExactCache {
        let config = Config {
            max_entries: Some(max_entries),
        };
        ExactCache::init(config).unwrap_or_else(|e| panic!("{e}"))
    }

    fn context(request_id: &str) -> Context {
        serde_json::from_str(&format!(r#"{{"request_id":"{request_id}"}}"#)).unwrap()
    }

    fn chat(text: &str) -> LlmRequest {
        LlmRequest::chat("openai", "gpt-4o-mini", vec![ChatMessage::user(text)])
    }

    /// pre_hook; `Some(answer)` when the cache answered.
    fn ask(cache: &mut ExactCache, id: &str, req: LlmRequest) -> Option<LlmResponse> {
        match cache.pre_hook(&mut context(id), req).unwrap() {
            PreHook::Continue(_) => None,
            PreHook::Respond(response) => Some(response),
            other => panic!("unexpected outcome: {other:?}"),
        }
    }

    /// post_hook with the provider's `answer`.
    fn answer(cache: &mut ExactCache, id: &str, text: &str) {
        let response = LlmResponse::chat("gpt-4o-mini", text);
        let out = cache.post_hook(&mut context(id), Some(response.clone()), None);
        assert_eq!(
            out.unwrap(),
            PostHook::respond(response),
            "passed on unchanged"
        );
    }

    #[test]
    fn max_entries_is_required_and_at_least_one() {
        let err = ExactCache::init(Config::default()).err().unwrap();
        assert!(err.to_string().contains("`max_entries`"), "{err}");
        let zero = Config {
            max_entries: Some(0),
        };
        let err = ExactCache::init(zero).err().unwrap();
        assert!(err.to_string().contains("`max_entries`"), "{err}");
    }

    #[test]
    fn a_repeated_request_is_answered_from_the_cache_whatever_its_request_id() {
        let mut cache = cache(4);
        assert_eq!(ask(&mut cache, "r1", chat("Hi")), None);
        answer(&mut cache, "r1", "Hello!");
        let hit = ask(&mut cache, "r2", chat("Hi")).expect("a hit");
        assert_eq!(hit.text(), Some("Hello!"));
        assert_eq!(
            ask(&mut cache, "r3", chat("Bye")),
            None,
            "another request misses"
        );
    }

    #[test]
    fn a_response_is_stored_only_for_the_request_it_answers() {
        let mut cache = cache(4);
        answer(&mut cache, "never-asked", "stray");
        assert!(cache.is_empty());
        ask(&mut cache, "r1", chat("Hi"));
        let error = LlmError::new("provider down").with_status(503);
        cache
            .post_hook(&mut context("r1"), None, Some(error))
            .unwrap();
        assert!(cache.is_empty(), "errors are not cached");
        assert_eq!(cache.pending(), 0, "the request is no longer waiting");
        assert_eq!(ask(&mut cache, "r2", chat("Hi")), None);
    }

    #[test]
    fn the_least_recently_used_response_is_evicted() {
        let mut cache = cache(2);
        for (id, text) in [("1", "a"), ("2", "b")] {
            ask(&mut cache, id, chat(text));
            answer(&mut cache, id, text);
        }
        assert!(
            ask(&mut cache, "3", chat("a")).is_some(),
            "a is now the most recent"
        );
        ask(&mut cache, "4", chat("c"));
        answer(&mut cache, "4", "c");
        assert_eq!(cache.len(), 2);
        assert!(ask(&mut cache, "5", chat("b")).is_none(), "b was evicted");
        assert!(ask(&mut cache, "6", chat("a")).is_some());
        assert!(ask(&mut cache, "7", chat("c")).is_some());
    }

    #[test]
    fn requests_that_never_get_a_post_hook_stay_bounded() {
        let mut cache = cache(3);
        for i in 0..100 {
            ask(&mut cache, &i.to_string(), chat(&format!("question {i}")));
        }
        assert_eq!(cache.pending(), 3);
        answer(&mut cache, "99", "the newest is still waiting");
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_huge_max_entries_reserves_nothing_up_front() {
        let mut cache = cache(usize::MAX);
        ask(&mut cache, "r1", chat("Hi"));
        answer(&mut cache, "r1", "Hello!");
        assert!(ask(&mut cache, "r2", chat("Hi")).is_some());
    }

    #[test]
    fn kinds_that_are_not_text_pass_without_being_remembered() {
        let mut cache = cache(3);
        let req: LlmRequest =
            serde_json::from_str(r#"{"speech_request":{"model":"tts-1","input":"Hi"}}"#).unwrap();
        assert_eq!(ask(&mut cache, "r1", req), None);
        assert_eq!(cache.pending(), 0);
    }
}
