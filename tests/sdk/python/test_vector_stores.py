"""client.vector_stores with the SDK's polling helpers and search, against offline ingestion."""

import pytest

DOCUMENTS = {
    "tides.txt": b"Tides are caused by the gravitational pull of the moon on the oceans.",
    "volcano.md": b"# Volcanoes\nMagma rises through the crust and erupts as lava and ash.",
    "bread.txt": b"Bread rises because yeast ferments sugar and releases carbon dioxide.",
}


@pytest.fixture
def store(client):
    created = client.vector_stores.create(name="sdk-store", metadata={"suite": "sdk"})
    yield created
    client.vector_stores.delete(created.id)


@pytest.fixture
def uploaded(client):
    files = [
        client.files.create(file=(name, content), purpose="assistants")
        for name, content in DOCUMENTS.items()
    ]
    yield files
    for file in files:
        client.files.delete(file.id)


def test_create_retrieve_list_delete(client):
    store = client.vector_stores.create(name="lifecycle")
    assert store.id.startswith("vs_") and store.object == "vector_store"
    assert store.status == "completed" and store.file_counts.total == 0
    assert client.vector_stores.retrieve(store.id).name == "lifecycle"
    assert store.id in [s.id for s in client.vector_stores.list(limit=100)]
    assert client.vector_stores.update(store.id, name="renamed").name == "renamed"
    deleted = client.vector_stores.delete(store.id)
    assert (deleted.object, deleted.deleted) == ("vector_store.deleted", True)


def test_files_create_and_poll_then_search(client, store, uploaded):
    for file in uploaded:
        attached = client.vector_stores.files.create_and_poll(
            file.id, vector_store_id=store.id, attributes={"name": file.filename}
        )
        assert attached.status == "completed", attached.last_error
        assert attached.chunking_strategy.static.max_chunk_size_tokens == 800

    refreshed = client.vector_stores.retrieve(store.id)
    assert refreshed.file_counts.completed == 3 and refreshed.usage_bytes > 0

    page = client.vector_stores.search(store.id, query="What causes the tides of the oceans?")
    results = list(page)
    assert results, "the tides document must be found"
    best = results[0]
    assert best.filename == "tides.txt"
    assert 0.0 <= best.score <= 1.0
    assert "moon" in best.content[0].text

    filtered = client.vector_stores.search(
        store.id,
        query="rises",
        filters={"type": "eq", "key": "name", "value": "bread.txt"},
    )
    assert [r.filename for r in filtered] == ["bread.txt"]


def test_file_batches_upload_and_poll(client, store):
    files = [(name, content) for name, content in DOCUMENTS.items()]
    batch = client.vector_stores.file_batches.upload_and_poll(store.id, files=files)
    try:
        assert batch.id.startswith("vsfb_") and batch.status == "completed"
        assert batch.file_counts.completed == 3 and batch.file_counts.total == 3
        listed = client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)
        assert sorted(f.status for f in listed) == ["completed"] * 3
        results = list(client.vector_stores.search(store.id, query="yeast ferments sugar"))
        assert results[0].filename == "bread.txt"
    finally:
        for file in client.vector_stores.files.list(store.id):
            client.files.delete(file.id)


def test_unsupported_file_fails_with_last_error(client, store):
    image = client.files.create(file=("pixel.png", b"\x89PNG\r\n\x1a\n\x00"), purpose="assistants")
    try:
        attached = client.vector_stores.files.create_and_poll(image.id, vector_store_id=store.id)
        assert attached.status == "failed"
        assert attached.last_error.code in ("unsupported_file", "invalid_file")
    finally:
        client.files.delete(image.id)


def test_file_search_run_cites_its_source(client, uploaded):
    tides = next(f for f in uploaded if f.filename == "tides.txt")
    assistant = client.beta.assistants.create(
        model="gpt-4o",
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_stores": [{"file_ids": [f.id for f in uploaded]}]}},
    )
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": "What is the moon's pull on the oceans causing?"}]
    )
    try:
        run = client.beta.threads.runs.create_and_poll(
            thread_id=thread.id,
            assistant_id=assistant.id,
            include=["step_details.tool_calls[*].file_search.results[*].content"],
        )
        assert run.status == "completed", run.last_error
        reply = client.beta.threads.messages.list(thread.id, limit=1).data[0]
        text = reply.content[0].text
        citations = [a for a in text.annotations if a.type == "file_citation"]
        assert citations, text.value
        assert citations[0].file_citation.file_id == tides.id
        assert text.value[citations[0].start_index : citations[0].end_index] == citations[0].text

        steps = client.beta.threads.runs.steps.list(
            run.id,
            thread_id=thread.id,
            order="asc",
            include=["step_details.tool_calls[*].file_search.results[*].content"],
        ).data
        call = steps[0].step_details.tool_calls[0]
        assert call.type == "file_search"
        assert call.file_search.results[0].file_id == tides.id
        assert "moon" in call.file_search.results[0].content[0].text
    finally:
        client.beta.threads.delete(thread.id)
        for store_id in assistant.tool_resources.file_search.vector_store_ids:
            client.vector_stores.delete(store_id)
        client.beta.assistants.delete(assistant.id)
