"""AsyncOpenAI, as an asyncio application uses it: the polling and streaming helpers, the async event
handler, a file batch uploaded and polled, and a streamed file_search run whose citations are checked.

The tests run on asyncio through anyio's pytest plugin (anyio is a dependency of the SDK). The offline
model's rules are in the README; file_search is forced with `tool_choice`, so nothing depends on a model.
"""

import asyncio
import json
import os
import re

import openai
import pytest
from openai import AsyncAssistantEventHandler

pytestmark = pytest.mark.anyio

FUNCTIONS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    },
]
FOODS = (
    b"This file describes the favorite foods of several people.\n\n"
    b"Summanus Ferdinand: tacos\nTekakwitha Effie: pizza\nFilip Carola: cake\n"
)
PETS = "Pets of the office.\n\nMarguerite: a tortoise named Öskar 🐢\nDesmond: two cats\n".encode()


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def aclient():
    async with openai.AsyncOpenAI(
        base_url=os.environ["OPENAI_BASE_URL"],
        api_key=os.environ.get("OPENAI_API_KEY", "sk-sdk-test") + "-async",
        max_retries=0,
    ) as client:
        yield client


@pytest.fixture
async def assistant(aclient):
    created = await aclient.beta.assistants.create(model="gpt-4o", tools=FUNCTIONS)
    yield created
    await aclient.beta.assistants.delete(created.id)


async def new_thread(aclient, text):
    return await aclient.beta.threads.create(messages=[{"role": "user", "content": text}])


async def latest_text(aclient, thread_id):
    message = (await aclient.beta.threads.messages.list(thread_id, limit=1)).data[0]
    assert message.role == "assistant"
    return message.content[0].text.value


async def test_create_and_poll_runs_side_by_side(aclient, assistant):
    threads = [await new_thread(aclient, f"Concurrent hello number {i}") for i in range(3)]
    try:
        runs = await asyncio.gather(
            *(
                aclient.beta.threads.runs.create_and_poll(
                    thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50
                )
                for thread in threads
            )
        )
        assert [run.status for run in runs] == ["completed"] * 3
        for i, (thread, run) in enumerate(zip(threads, runs)):
            assert run.thread_id == thread.id
            assert f"Concurrent hello number {i}" in await latest_text(aclient, thread.id)
    finally:
        for thread in threads:
            await aclient.beta.threads.delete(thread.id)


async def test_create_and_poll_then_submit_tool_outputs_and_poll(aclient, assistant):
    thread = await new_thread(aclient, "What does get_weather say?")
    try:
        run = await aclient.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50
        )
        assert run.status == "requires_action"
        [call] = run.required_action.submit_tool_outputs.tool_calls
        assert call.function.name == "get_weather"
        run = await aclient.beta.threads.runs.submit_tool_outputs_and_poll(
            run_id=run.id,
            thread_id=thread.id,
            tool_outputs=[{"tool_call_id": call.id, "output": "hail"}],
            poll_interval_ms=50,
        )
        assert run.status == "completed"
        assert "hail" in await latest_text(aclient, thread.id)
    finally:
        await aclient.beta.threads.delete(thread.id)


class Recorder(AsyncAssistantEventHandler):
    """Collects what the SDK's async stream parser hands to the handler."""

    def __init__(self):
        super().__init__()
        self.seen = []
        self.text = ""
        self.done_calls = []

    async def on_event(self, event):
        self.seen.append(event.event)

    async def on_message_created(self, message):
        self.seen.append(f"message_created:{message.role}")

    async def on_text_delta(self, delta, snapshot):
        self.text += delta.value

    async def on_message_done(self, message):
        self.seen.append(f"message_done:{message.status}")

    async def on_tool_call_done(self, tool_call):
        self.done_calls.append(tool_call)


async def test_stream_with_async_event_handler(aclient, assistant):
    thread = await new_thread(aclient, "Stream this sentence asynchronously")
    try:
        handler = Recorder()
        async with aclient.beta.threads.runs.stream(
            thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
        ) as stream:
            await stream.until_done()
        run = await stream.get_final_run()
        assert run.status == "completed"
        assert handler.seen[:3] == [
            "thread.run.created",
            "thread.run.queued",
            "thread.run.in_progress",
        ]
        assert handler.seen[-1] == "thread.run.completed"
        assert handler.seen.index("message_created:assistant") < handler.seen.index(
            "message_done:completed"
        )
        assert "Stream this sentence asynchronously" in handler.text
        assert handler.text == await latest_text(aclient, thread.id)
        [message] = await stream.get_final_messages()
        assert message.content[0].text.value == handler.text
    finally:
        await aclient.beta.threads.delete(thread.id)


async def test_submit_tool_outputs_stream_with_parallel_calls(aclient, assistant):
    thread = await new_thread(aclient, "Use get_weather and get_time please")
    try:
        handler = Recorder()
        async with aclient.beta.threads.runs.stream(
            thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
        ) as stream:
            await stream.until_done()
        run = await stream.get_final_run()
        assert run.status == "requires_action"
        calls = run.required_action.submit_tool_outputs.tool_calls
        assert sorted(call.function.name for call in calls) == ["get_time", "get_weather"]
        assert len({call.id for call in calls}) == 2
        # The SDK rebuilt both calls, arguments included, from the step deltas.
        assert [(c.id, c.function.arguments) for c in handler.done_calls] == [
            (c.id, c.function.arguments) for c in calls
        ]
        weather = next(call for call in calls if call.function.name == "get_weather")
        assert isinstance(json.loads(weather.function.arguments)["city"], str)

        events = []
        async with aclient.beta.threads.runs.submit_tool_outputs_stream(
            run_id=run.id,
            thread_id=thread.id,
            tool_outputs=[
                {"tool_call_id": call.id, "output": f"out-{call.function.name}"} for call in calls
            ],
        ) as stream:
            async for event in stream:
                events.append(event.event)
            final = await stream.get_final_run()
        assert events[0] == "thread.run.step.completed" and events[-1] == "thread.run.completed"
        assert final.status == "completed" and final.id == run.id
        text = await latest_text(aclient, thread.id)
        assert "out-get_weather" in text and "out-get_time" in text
    finally:
        await aclient.beta.threads.delete(thread.id)


async def test_file_batch_upload_and_poll_then_streamed_file_search(aclient):
    store = await aclient.vector_stores.create(name="async favorite foods")
    batch = await aclient.vector_stores.file_batches.upload_and_poll(
        store.id,
        files=[("favorite_foods.txt", FOODS), ("office_pets.txt", PETS)],
        poll_interval_ms=50,
    )
    files = [
        file
        async for file in aclient.vector_stores.file_batches.list_files(
            batch.id, vector_store_id=store.id, limit=1
        )
    ]
    assistant = await aclient.beta.assistants.create(
        model="gpt-4o",
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store.id]}},
    )
    thread = await new_thread(aclient, "Using the files you have, what's Filip's favorite food?")
    try:
        assert batch.status == "completed"
        assert (batch.file_counts.completed, batch.file_counts.total) == (2, 2)
        assert len(files) == 2 and all(file.status == "completed" for file in files)
        names = {file.id: (await aclient.files.retrieve(file.id)).filename for file in files}
        foods_id = next(id for id, name in names.items() if name == "favorite_foods.txt")

        async with aclient.beta.threads.runs.stream(
            thread_id=thread.id,
            assistant_id=assistant.id,
            tool_choice={"type": "file_search"},
        ) as stream:
            streamed = "".join([delta async for delta in stream.text_deltas])
        run = await stream.get_final_run()
        assert run.status == "completed"
        steps = await stream.get_final_run_steps()
        assert [step.type for step in steps] == ["tool_calls", "message_creation"]
        assert steps[0].step_details.tool_calls[0].type == "file_search"

        [final] = await stream.get_final_messages()
        stored = (await aclient.beta.threads.messages.list(thread.id, limit=1)).data[0]
        assert stored.id == final.id
        for text in (final.content[0].text, stored.content[0].text):
            assert text.value == streamed and "cake" in text.value
            assert text.annotations, text.value
            for annotation in text.annotations:
                assert annotation.type == "file_citation"
                assert annotation.file_citation.file_id == foods_id
                assert re.fullmatch(r"【\d+:\d+†favorite_foods\.txt】", annotation.text)
                assert text.value[annotation.start_index : annotation.end_index] == annotation.text
    finally:
        await aclient.beta.threads.delete(thread.id)
        await aclient.beta.assistants.delete(assistant.id)
        await aclient.vector_stores.delete(store.id)
        for file in files:
            await aclient.files.delete(file.id)
