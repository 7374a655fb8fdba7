//! Unit tests of the routing table.

use super::*;

fn route(model: &str) -> Result<(String, String), String> {
    RoutingTable::built_in()
        .route(model)
        .map(|r| (r.provider, r.model))
        .map_err(|e| e.0)
}

fn ok(provider: &str, model: &str) -> Result<(String, String), String> {
    Ok((provider.to_owned(), model.to_owned()))
}

#[test]
fn prefixes_pick_the_provider_and_are_stripped() {
    assert_eq!(route("cohere/command"), ok("cohere", "command"));
    assert_eq!(
        route("groq/llama-3.1-8b-instant"),
        ok("groq", "llama-3.1-8b-instant")
    );
    assert_eq!(
        route("openrouter/meta-llama/llama-3-8b"),
        ok("openrouter", "meta-llama/llama-3-8b")
    );
    assert_eq!(route("openai/gpt-4o"), ok("openai", "gpt-4o"));
    assert_eq!(
        route("bedrock/meta.llama2-13b-chat-v1"),
        ok("bedrock", "meta.llama2-13b-chat-v1")
    );
    for (name, ..) in BUILT_IN {
        assert_eq!(route(&format!("{name}/m")), ok(name, "m"));
    }
}

#[test]
fn bare_names_follow_their_family() {
    assert_eq!(route("gpt-4o-mini"), ok("openai", "gpt-4o-mini"));
    assert_eq!(route("o3-mini"), ok("openai", "o3-mini"));
    assert_eq!(
        route("claude-3-5-sonnet-latest"),
        ok("anthropic", "claude-3-5-sonnet-latest")
    );
    assert_eq!(route("gemini-1.5-flash"), ok("gemini", "gemini-1.5-flash"));
    assert_eq!(route("command-r-plus"), ok("cohere", "command-r-plus"));
    assert_eq!(
        route("embed-english-v3.0"),
        ok("cohere", "embed-english-v3.0")
    );
    assert_eq!(
        route("meta.llama2-13b-chat-v1"),
        ok("bedrock", "meta.llama2-13b-chat-v1")
    );
    assert_eq!(
        route("amazon.titan-embed-text-v1"),
        ok("bedrock", "amazon.titan-embed-text-v1")
    );
    assert_eq!(
        route("us.anthropic.claude-3-haiku-20240307-v1:0"),
        ok("bedrock", "us.anthropic.claude-3-haiku-20240307-v1:0")
    );
    // Unrecognised names (a local Ollama or vLLM model) stay on the server's upstream.
    assert_eq!(route("llama3.1"), ok("openai", "llama3.1"));
    assert_eq!(route("orca-mini"), ok("openai", "orca-mini"));
    assert_eq!(route("gpt-3.5-turbo"), ok("openai", "gpt-3.5-turbo"));
}

#[test]
fn bare_names_can_all_go_upstream() {
    let mut table = RoutingTable::built_in();
    table.bare_names = BareNames::Upstream;
    assert_eq!(table.route("claude-3-opus").unwrap().provider, "openai");
}

#[test]
fn unknown_prefixes_are_refused_naming_the_known_ones() {
    let error = route("huggingface/zephyr").unwrap_err();
    assert!(error.starts_with("Unknown model provider 'huggingface' in model 'huggingface/zephyr'. Known providers: anthropic, azure, bedrock, cohere, deepseek, fireworks_ai, gemini, groq, mistral, ollama, openai, openrouter, perplexity, together_ai, vertex_ai, xai, and openai_compatible/<name>/"), "{error}");
    assert!(route("groq/").unwrap_err().contains("no model after '/'"));
    let error = route("openai_compatible/local/x").unwrap_err();
    assert!(error.contains("none are configured"), "{error}");
}

#[test]
fn keys_come_from_the_first_set_variable() {
    let mut table = RoutingTable::built_in();
    table.read_keys(|name| match name {
        "TOGETHERAI_API_KEY" => Some("tk".into()),
        "AZURE_API_BASE" => Some("https://r.openai.azure.com/openai/v1".into()),
        "COHERE_API_KEY" => Some(String::new()),
        _ => None,
    });
    assert_eq!(
        table.providers["together_ai"].api_key.as_deref(),
        Some("tk")
    );
    assert_eq!(table.providers["cohere"].api_key, None);
    assert_eq!(
        table.providers["azure"].base_url.as_deref(),
        Some("https://r.openai.azure.com/openai/v1")
    );
    let shown = format!("{:?}", table.providers["together_ai"]);
    assert!(!shown.contains("tk\""), "{shown}");
}

#[test]
fn help_lists_every_built_in_prefix() {
    let help = built_in_help();
    for (name, ..) in BUILT_IN {
        assert!(help.contains(&format!("  {name}/  ")), "{name}: {help}");
    }
}
