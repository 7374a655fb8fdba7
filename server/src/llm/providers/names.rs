//! Bare model names (without a `provider/` prefix): which provider family they belong
//! to, as users of the seed service expect.

use super::table::DEFAULT_PROVIDER;

/// Bedrock model id vendors (`meta.llama2-13b-chat-v1`, `amazon.titan-embed-text-v1`) and
/// the cross-region inference profile prefixes (`us.anthropic.claude-…`).
const BEDROCK_VENDORS: &[&str] = &[
    "amazon",
    "anthropic",
    "meta",
    "cohere",
    "mistral",
    "ai21",
    "stability",
    "deepseek",
    "writer",
    "qwen",
    "openai",
    "twelvelabs",
    "luma",
];
const BEDROCK_REGIONS: &[&str] = &["us", "eu", "apac", "us-gov", "global", "jp", "au"];

/// The provider family a bare model name belongs to, as users of the seed service
/// expect: OpenAI names and anything unrecognised go to the server's own upstream.
pub fn bare_family(model: &str) -> &'static str {
    let lower = model.to_ascii_lowercase();
    let o_series =
        lower.len() > 1 && lower.starts_with('o') && lower.as_bytes()[1].is_ascii_digit();
    if lower.starts_with("gpt-") || lower.starts_with("chatgpt-") || o_series {
        return DEFAULT_PROVIDER;
    }
    if lower.starts_with("claude-") {
        return "anthropic";
    }
    if lower.starts_with("gemini-") {
        return "gemini";
    }
    if lower.starts_with("command") || lower.starts_with("embed-") {
        return "cohere";
    }
    if is_bedrock_id(&lower) {
        return "bedrock";
    }
    DEFAULT_PROVIDER
}

/// `vendor.model` (optionally `region.vendor.model`) as Bedrock spells model ids.
fn is_bedrock_id(model: &str) -> bool {
    let mut parts = model.splitn(3, '.');
    let (Some(first), Some(second)) = (parts.next(), parts.next()) else {
        return false;
    };
    let vendor = |name: &str| BEDROCK_VENDORS.contains(&name);
    let model_part = |name: &str| name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if BEDROCK_REGIONS.contains(&first) {
        return vendor(second) && parts.next().is_some_and(model_part);
    }
    vendor(first) && model_part(second)
}
