"""client.beta.threads and client.beta.threads.messages against the server."""

import openai
import pytest


def test_thread_lifecycle(client):
    thread = client.beta.threads.create(metadata={"topic": "sdk"})
    assert thread.id.startswith("thread_") and thread.object == "thread"
    assert thread.metadata == {"topic": "sdk"}

    assert client.beta.threads.retrieve(thread.id).id == thread.id
    updated = client.beta.threads.update(thread.id, metadata={"topic": "changed"})
    assert updated.metadata == {"topic": "changed"}

    deleted = client.beta.threads.delete(thread.id)
    assert (deleted.object, deleted.deleted) == ("thread.deleted", True)
    with pytest.raises(openai.NotFoundError) as err:
        client.beta.threads.retrieve(thread.id)
    assert err.value.body["message"] == f"No thread found with id '{thread.id}'."


def test_initial_messages_keep_their_order_and_forms(client):
    thread = client.beta.threads.create(
        messages=[
            {"role": "user", "content": "Hello, world!"},
            {"role": "assistant", "content": "Hi."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe this."},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            },
        ]
    )
    try:
        messages = client.beta.threads.messages.list(thread.id, order="asc").data
        assert [m.role for m in messages] == ["user", "assistant", "user"]
        assert messages[0].content[0].text.value == "Hello, world!"
        assert messages[0].content[0].text.annotations == []
        assert messages[2].content[1].image_url.detail == "auto"
        assert all(m.assistant_id is None and m.run_id is None for m in messages)
    finally:
        client.beta.threads.delete(thread.id)


def test_message_crud_and_pagination(client):
    thread = client.beta.threads.create()
    try:
        sent = [
            client.beta.threads.messages.create(thread.id, role="user", content=f"message {i}")
            for i in range(5)
        ]
        assert all(m.id.startswith("msg_") and m.thread_id == thread.id for m in sent)

        walked = [m.id for m in client.beta.threads.messages.list(thread.id, limit=2)]
        assert walked == [m.id for m in reversed(sent)]
        page = client.beta.threads.messages.list(thread.id, limit=2, order="asc")
        assert [m.id for m in page.data] == [sent[0].id, sent[1].id] and page.has_more

        updated = client.beta.threads.messages.update(sent[0].id, thread_id=thread.id, metadata={"a": "b"})
        assert updated.metadata == {"a": "b"}
        fetched = client.beta.threads.messages.retrieve(sent[0].id, thread_id=thread.id)
        assert fetched.metadata == {"a": "b"}

        deleted = client.beta.threads.messages.delete(sent[0].id, thread_id=thread.id)
        assert (deleted.object, deleted.deleted) == ("thread.message.deleted", True)
        remaining = [m.id for m in client.beta.threads.messages.list(thread.id, order="asc")]
        assert remaining == [m.id for m in sent[1:]]
    finally:
        client.beta.threads.delete(thread.id)


def test_deleting_a_thread_deletes_its_messages(client):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "bye"}])
    message = client.beta.threads.messages.list(thread.id).data[0]
    client.beta.threads.delete(thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.retrieve(message.id, thread_id=thread.id)
