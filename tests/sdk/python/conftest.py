"""Shared fixtures: an official OpenAI client pointed at the server under test.

The Rust test `tests/tests/python_sdk.rs` starts the reference server and sets
OPENAI_BASE_URL and OPENAI_API_KEY; any other Assistants-compatible server works too.
"""

import os
import uuid

import openai
import pytest


@pytest.fixture
def client() -> openai.OpenAI:
    return openai.OpenAI(
        base_url=os.environ["OPENAI_BASE_URL"],
        api_key=os.environ.get("OPENAI_API_KEY", "sk-sdk-test"),
        max_retries=0,
    )


@pytest.fixture
def other_tenant() -> openai.OpenAI:
    """A client with a different API key: a different tenant on the reference server."""
    return openai.OpenAI(
        base_url=os.environ["OPENAI_BASE_URL"],
        api_key="sk-other-" + uuid.uuid4().hex,
        max_retries=0,
    )
