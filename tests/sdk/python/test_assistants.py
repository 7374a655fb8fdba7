"""client.beta.assistants against the server: CRUD, defaults, normalisation, pagination, errors."""

import time

import openai
import pytest


def test_create_retrieve_update_delete(client):
    created = client.beta.assistants.create(model="gpt-4o", name="sdk", metadata={"k": "v"})
    assert created.id.startswith("asst_")
    assert created.object == "assistant"
    assert abs(created.created_at - time.time()) < 600
    assert (created.name, created.model, created.metadata) == ("sdk", "gpt-4o", {"k": "v"})
    assert created.temperature == 1.0 and created.top_p == 1.0
    assert created.response_format == "auto"
    assert created.tools == []

    fetched = client.beta.assistants.retrieve(created.id)
    assert fetched == created

    updated = client.beta.assistants.update(created.id, name="renamed", instructions="Be brief.")
    assert (updated.name, updated.instructions, updated.metadata) == ("renamed", "Be brief.", {"k": "v"})

    deleted = client.beta.assistants.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "assistant.deleted", True)
    with pytest.raises(openai.NotFoundError) as err:
        client.beta.assistants.retrieve(created.id)
    assert err.value.body["message"] == f"No assistant found with id '{created.id}'."


def test_tools_are_normalised(client):
    assistant = client.beta.assistants.create(
        model="gpt-4o",
        tools=[
            {"type": "code_interpreter"},
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
        ],
    )
    try:
        function = assistant.tools[1].function
        assert function.name == "get_weather" and function.strict is False
        assert assistant.tool_resources.code_interpreter.file_ids == []
    finally:
        client.beta.assistants.delete(assistant.id)


def test_pagination_walks_every_page_in_order(client):
    created = [client.beta.assistants.create(model="gpt-4o", name=f"page-{i}") for i in range(5)]
    ids = [a.id for a in created]
    try:
        newest_first = [a.id for a in client.beta.assistants.list(limit=2)]
        # The SDK follows `after=last_id` while has_more is true.
        assert newest_first[:5] == ids[::-1]
        page = client.beta.assistants.list(limit=2, order="asc", after=ids[0])
        assert [a.id for a in page.data] == ids[1:3]
        assert page.has_more is True
    finally:
        for assistant_id in ids:
            client.beta.assistants.delete(assistant_id)


def test_bad_input_gets_openai_errors(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.beta.assistants.create(model="gpt-4o", metadata={"flag": True})
    assert err.value.body["message"] == (
        "Invalid type for 'metadata.flag': expected a string, but got a boolean instead."
    )
    assert err.value.body["param"] == "metadata.flag"
    assert err.value.body["code"] == "invalid_type"
    with pytest.raises(openai.BadRequestError):
        client.beta.assistants.create(model="gpt-4o", metadata={f"k{i}": "v" for i in range(17)})
    with pytest.raises(openai.BadRequestError):
        client.beta.assistants.list(limit=101)


def test_tenants_do_not_see_each_other(client, other_tenant):
    mine = client.beta.assistants.create(model="gpt-4o")
    try:
        with pytest.raises(openai.NotFoundError):
            other_tenant.beta.assistants.retrieve(mine.id)
        with pytest.raises(openai.NotFoundError):
            other_tenant.beta.assistants.delete(mine.id)
        assert mine.id not in [a.id for a in other_tenant.beta.assistants.list(limit=100)]
    finally:
        client.beta.assistants.delete(mine.id)
