"""The seed service's README examples, unchanged but for the base URL.

DataStax Astra Assistants users kept the OpenAI SDK and named a provider's model, with
the provider's key in an `api-key` header (Cohere) or AWS credentials in `LLM-PARAM-aws-*`
headers (Bedrock), `api_key="NONE"` and their tenant token in `astra-api-token`. The Rust
test `tests/tests/python_providers.rs` starts the reference server with fake Cohere and
Bedrock services behind it and sets the environment read here.
"""

import os

import openai
import pytest
from openai import OpenAI

BASE_URL = os.environ["OPENAI_BASE_URL"]
ASTRA_DB_APPLICATION_TOKEN = os.environ["ASTRA_DB_APPLICATION_TOKEN"]
DOCUMENT = ("foods.txt", b"My favorite food is pizza with olives. I never eat broccoli.")


def cohere_client() -> OpenAI:
    return OpenAI(
        base_url=BASE_URL,
        api_key="NONE",
        max_retries=0,
        default_headers={
            "astra-api-token": ASTRA_DB_APPLICATION_TOKEN,
            "api-key": os.environ["COHERE_API_KEY"],
            "embedding-model": "cohere/embed-english-v3.0",
        },
    )


def bedrock_client() -> OpenAI:
    return OpenAI(
        base_url=BASE_URL,
        api_key="NONE",
        max_retries=0,
        default_headers={
            "astra-api-token": ASTRA_DB_APPLICATION_TOKEN,
            "embedding-model": "amazon.titan-embed-text-v1",
            "LLM-PARAM-aws-access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
            "LLM-PARAM-aws-secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"],
            "LLM-PARAM-aws-region-name": os.environ["AWS_REGION_NAME"],
        },
    )


def file_search_assistant(client: OpenAI, model: str):
    """A store holding DOCUMENT (embedded by the client's embedding model) and an
    assistant on `model` searching it."""
    file = client.files.create(file=DOCUMENT, purpose="assistants")
    store = client.vector_stores.create(name="my-foods")
    attached = client.vector_stores.files.create_and_poll(file.id, vector_store_id=store.id)
    assert attached.status == "completed", attached.last_error
    results = list(client.vector_stores.search(store.id, query="favorite food"))
    assert results and results[0].filename == "foods.txt"
    return client.beta.assistants.create(
        name="Food finder",
        instructions="Answer from the user's files.",
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store.id]}},
    )


def ask(client: OpenAI, assistant_id: str, question: str) -> str:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": question}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant_id)
    assert run.status == "completed", run.last_error
    steps = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id)
    kinds = [step.step_details.type for step in steps]
    assert "tool_calls" in kinds, kinds
    messages = client.beta.threads.messages.list(thread_id=thread.id)
    return messages.data[0].content[0].text.value


def streamed_answer(client: OpenAI, model: str) -> str:
    assistant = client.beta.assistants.create(
        instructions="You are a personal math tutor. Answer briefly.", model=model
    )
    assert assistant.model == model
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi!"}])
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        text = "".join(stream.text_deltas)
        assert stream.get_final_run().status == "completed"
    return text


def test_cohere_chat_and_embeddings():
    client = cohere_client()
    assert streamed_answer(client, "cohere/command-r") == "Hello from Command R."
    assistant = file_search_assistant(client, "cohere/command-r")
    assert assistant.model == "cohere/command-r"
    assert "pizza with olives" in ask(client, assistant.id, "What is my favorite food?")


def test_bedrock_with_llm_param_aws_headers():
    client = bedrock_client()
    assert streamed_answer(client, "meta.llama2-13b-chat-v1") == "Hello from Llama 2."
    assistant = file_search_assistant(client, "meta.llama2-13b-chat-v1")
    assert "pizza with olives" in ask(client, assistant.id, "What is my favorite food?")


def test_none_without_the_tenant_token_is_refused():
    client = OpenAI(base_url=BASE_URL, api_key="NONE", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.beta.assistants.list()
