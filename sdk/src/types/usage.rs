//! Token usage reported with a response or a stream chunk.

use serde_json::{Map, Value};

/// Tokens a provider call used, as the provider reported them.
///
/// Read from the `usage` object of a response or chunk:
/// - chat and text completions, embeddings: `prompt_tokens`,
///   `completion_tokens`, `total_tokens`;
/// - the Responses API: `input_tokens` is read as `prompt_tokens` and
///   `output_tokens` as `completion_tokens` (each used only when the
///   completion-style name is absent).
///
/// A count the provider left out is 0, except `total_tokens`, which is then
/// `prompt_tokens + completion_tokens`.
///
/// ```
/// use bifrost_plugin_sdk::{LlmResponse, Usage};
/// let resp = LlmResponse::chat("m", "hi").with_usage(Usage::new(12, 3));
/// let usage = resp.usage().unwrap();
/// assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.total_tokens), (12, 3, 15));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Usage {
    /// Tokens of the input (`prompt_tokens`, or `input_tokens`).
    pub prompt_tokens: u64,
    /// Tokens generated (`completion_tokens`, or `output_tokens`).
    pub completion_tokens: u64,
    /// All tokens billed (`total_tokens`, or the sum of the other two).
    pub total_tokens: u64,
}

impl Usage {
    /// Usage of `prompt_tokens` and `completion_tokens`; the total is their
    /// sum.
    ///
    /// ```
    /// use bifrost_plugin_sdk::Usage;
    /// assert_eq!(Usage::new(2, 3).total_tokens, 5);
    /// ```
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
        }
    }

    /// The usage written as `text` (a checked JSON object).
    pub(crate) fn in_text(text: &[u8]) -> Option<Usage> {
        let usage = super::document::read_checked(text)?;
        let mut holder = Map::new();
        holder.insert("usage".into(), Value::Object(usage));
        Usage::in_object(&holder)
    }

    /// The usage in `holder["usage"]`, if that is an object.
    pub(crate) fn in_object(holder: &Map<String, Value>) -> Option<Usage> {
        let usage = holder.get("usage")?.as_object()?;
        let count = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|name| usage.get(*name).and_then(count_of))
        };
        let prompt_tokens = count(["prompt_tokens", "input_tokens"]).unwrap_or(0);
        let completion_tokens = count(["completion_tokens", "output_tokens"]).unwrap_or(0);
        let total_tokens = usage
            .get("total_tokens")
            .and_then(count_of)
            .unwrap_or(prompt_tokens.saturating_add(completion_tokens));
        Some(Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens,
        })
    }

    /// The JSON object written by [`LlmResponse::with_usage`](crate::LlmResponse::with_usage).
    pub(crate) fn to_value(self) -> Value {
        let mut map = Map::new();
        map.insert("prompt_tokens".into(), self.prompt_tokens.into());
        map.insert("completion_tokens".into(), self.completion_tokens.into());
        map.insert("total_tokens".into(), self.total_tokens.into());
        Value::Object(map)
    }
}

/// A token count: a non-negative integer (a float with no fraction counts,
/// as Go may write one).
fn count_of(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        let f = value.as_f64()?;
        (f >= 0.0 && f.fract() == 0.0 && f < u64::MAX as f64).then_some(f as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(json: &str) -> Option<Usage> {
        Usage::in_object(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn chat_and_responses_names_are_both_read() {
        assert_eq!(
            usage(r#"{"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#),
            Some(Usage::new(5, 7))
        );
        assert_eq!(
            usage(r#"{"usage":{"input_tokens":5,"output_tokens":7,"total_tokens":12}}"#),
            Some(Usage::new(5, 7))
        );
    }

    #[test]
    fn a_missing_total_is_the_sum_and_missing_counts_are_zero() {
        assert_eq!(
            usage(r#"{"usage":{"prompt_tokens":4}}"#),
            Some(Usage::new(4, 0))
        );
        let embedding = usage(r#"{"usage":{"prompt_tokens":4,"total_tokens":4.0}}"#).unwrap();
        assert_eq!(embedding.total_tokens, 4);
        assert_eq!(usage(r#"{"usage":null}"#), None);
        assert_eq!(usage(r#"{"id":"x"}"#), None);
        assert_eq!(
            usage(r#"{"usage":{"total_tokens":-1}}"#)
                .unwrap()
                .total_tokens,
            0
        );
    }
}
