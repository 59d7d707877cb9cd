//! A Bifrost plugin that keeps a token budget: post_hook adds up the
//! `usage.total_tokens` of every response in the plugin's state, and once
//! the total exceeds `max_total_tokens`, pre_hook answers every request
//! with an LLM error (status 429, type `budget_exceeded`) instead of
//! calling the provider.
//!
//! Config: `{"max_total_tokens": N}` (required).

#![deny(unsafe_code)]

use bifrost_plugin_sdk::prelude::*;
use serde::Deserialize;

/// The plugin's configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The budget: requests are refused once more tokens than this were used.
    pub max_total_tokens: Option<u64>,
}

/// The plugin's state: the budget and what has been used of it.
#[derive(Debug)]
pub struct TokenBudget {
    max_total_tokens: u64,
    used: u64,
}

impl TokenBudget {
    /// Whether the budget is used up (more than the maximum was used).
    pub fn exceeded(&self) -> bool {
        self.used > self.max_total_tokens
    }

    /// Tokens used so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The answer to a request once the budget is used up.
    fn refusal(&self) -> LlmError {
        LlmError::new(format!(
            "token budget exceeded: {} tokens used of {}",
            self.used, self.max_total_tokens
        ))
        .with_status(429)
        .with_type("budget_exceeded")
    }
}

#[bifrost_plugin(name = "token-budget")]
impl Plugin for TokenBudget {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        let max_total_tokens = config.max_total_tokens.ok_or_else(|| {
            PluginError::new(
                "config field `max_total_tokens` is missing: expected the token budget, \
                 a non-negative integer",
            )
        })?;
        Ok(TokenBudget {
            max_total_tokens,
            used: 0,
        })
    }

    fn pre_hook(&mut self, _ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        if self.exceeded() {
            return Ok(PreHook::Fail(self.refusal()));
        }
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        _ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        let used = response.as_ref().and_then(LlmResponse::usage);
        if let Some(usage) = used {
            self.used = self.used.saturating_add(usage.total_tokens);
        }
        Ok(PostHook::new(response, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_sdk::testing::TestPlugin;

    const REQUEST: &str = r#"{"model":"m","messages":[{"role":"user","content":"Hi"}]}"#;

    fn response(total: u64) -> String {
        format!(
            r#"{{"chat_response":{{"choices":[],"usage":{{"prompt_tokens":1,"completion_tokens":2,"total_tokens":{total}}}}}}}"#
        )
    }

    #[test]
    fn requests_pass_until_the_total_exceeds_the_budget() {
        let mut plugin = TestPlugin::<TokenBudget>::init(r#"{"max_total_tokens":100}"#).unwrap();
        for total in [60, 40] {
            let out = plugin.pre_hook("{}", REQUEST);
            assert_eq!(
                out["short_circuit"],
                bifrost_plugin_sdk::serde_json::Value::Null
            );
            let out = plugin.post_hook("{}", response(total), "");
            assert!(out.text().contains(&response(total)), "passed on unchanged");
        }
        // 100 used: not more than the budget yet.
        assert!(plugin.pre_hook("{}", REQUEST)["short_circuit"].is_null());
        plugin.post_hook("{}", response(1), "");
        let out = plugin.pre_hook("{}", REQUEST);
        let error = &out["short_circuit"]["error"];
        assert_eq!(error["status_code"], 429);
        assert_eq!(error["error"]["type"], "budget_exceeded");
        assert_eq!(
            error["error"]["message"],
            "token budget exceeded: 101 tokens used of 100"
        );
    }

    #[test]
    fn responses_without_usage_and_errors_cost_nothing() {
        let mut plugin = TestPlugin::<TokenBudget>::init(r#"{"max_total_tokens":0}"#).unwrap();
        plugin.post_hook("{}", r#"{"choices":[]}"#, "");
        plugin.post_hook("{}", "", r#"{"error":{"message":"boom"}}"#);
        assert!(plugin.pre_hook("{}", REQUEST)["short_circuit"].is_null());
        // Responses API names count too.
        plugin.post_hook(
            "{}",
            r#"{"usage":{"input_tokens":1,"output_tokens":0}}"#,
            "",
        );
        assert!(!plugin.pre_hook("{}", REQUEST)["short_circuit"].is_null());
    }

    #[test]
    fn config_errors_name_the_field_and_what_was_expected() {
        for (config, expected) in [
            (
                "{}",
                "config field `max_total_tokens` is missing: expected the token budget",
            ),
            ("", "config field `max_total_tokens` is missing"),
            (
                r#"{"max_total_tokens":-5}"#,
                "`max_total_tokens`: invalid value: integer, expected u64",
            ),
            (
                r#"{"max_total_tokens":"1k"}"#,
                "`max_total_tokens`: invalid type: string, expected u64",
            ),
            (
                r#"{"max_tokens":5}"#,
                "unknown field `max_tokens`, expected `max_total_tokens`",
            ),
        ] {
            let err = TestPlugin::<TokenBudget>::init(config)
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(expected), "{config}: {err}");
        }
    }

    #[test]
    fn a_malformed_response_is_reported_and_counts_nothing() {
        let mut plugin = TestPlugin::<TokenBudget>::init(r#"{"max_total_tokens":0}"#).unwrap();
        let out = plugin.post_hook("{}", r#"{"usage":{"total_tokens":5},}"#, "");
        assert!(
            out.error()
                .unwrap()
                .starts_with("response is not valid JSON"),
            "{out}"
        );
        assert!(plugin.pre_hook("{}", REQUEST)["short_circuit"].is_null());
    }
}
