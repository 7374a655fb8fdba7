"""Runs through the official SDK's helpers against the server's deterministic offline model.

The offline model's rules (README): it calls a function tool when `tool_choice` names it, or when
the function's name appears as a word in the latest user message; after tool outputs it replies
quoting each output; otherwise it replies quoting the latest user message.
"""

import json

import pytest
from openai import AssistantEventHandler

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


@pytest.fixture
def assistant(client):
    created = client.beta.assistants.create(
        model="gpt-4o", instructions="You are terse.", tools=[WEATHER, TIME]
    )
    yield created
    client.beta.assistants.delete(created.id)


@pytest.fixture
def thread(client):
    created = client.beta.threads.create()
    yield created
    client.beta.threads.delete(created.id)


def say(client, thread, text):
    client.beta.threads.messages.create(thread.id, role="user", content=text)


def last_assistant_text(client, thread):
    message = client.beta.threads.messages.list(thread.id, limit=1).data[0]
    assert message.role == "assistant"
    return message.content[0].text.value


def test_create_and_poll_completes_with_usage(client, assistant, thread):
    say(client, thread, "Hello there, how are you")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    assert run.completed_at and run.started_at and run.expires_at is None
    assert run.usage.total_tokens == run.usage.prompt_tokens + run.usage.completion_tokens > 0
    assert "Hello there, how are you" in last_assistant_text(client, thread)
    steps = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id).data
    assert [s.type for s in steps] == ["message_creation"]
    assert steps[0].status == "completed" and steps[0].usage.total_tokens > 0


def test_function_round_trip_with_polling_helpers(client, assistant, thread):
    say(client, thread, "What is the get_weather like?")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action"
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [c.function.name for c in calls] == ["get_weather"]
    arguments = json.loads(calls[0].function.arguments)
    assert arguments["unit"] == "celsius" and isinstance(arguments["city"], str)

    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=[{"tool_call_id": calls[0].id, "output": "22 degrees and sunny"}],
    )
    assert run.status == "completed"
    assert "22 degrees and sunny" in last_assistant_text(client, thread)
    steps = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0].step_details.tool_calls[0].function.output == "22 degrees and sunny"


def test_parallel_calls_get_distinct_ids(client, assistant, thread):
    say(client, thread, "Use get_weather and get_time please")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert sorted(c.function.name for c in calls) == ["get_time", "get_weather"]
    assert len({c.id for c in calls}) == 2 and all(c.id.startswith("call_") for c in calls)
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=[{"tool_call_id": c.id, "output": f"out-{c.function.name}"} for c in calls],
    )
    text = last_assistant_text(client, thread)
    assert run.status == "completed" and "out-get_time" in text and "out-get_weather" in text


class Recorder(AssistantEventHandler):
    """Collects what the SDK's strict stream parser hands to the handler."""

    def __init__(self):
        super().__init__()
        self.events = []
        self.text = ""

    def on_event(self, event):
        self.events.append(event.event)

    def on_text_delta(self, delta, snapshot):
        self.text += delta.value


def test_stream_with_event_handler(client, assistant, thread):
    say(client, thread, "Stream this sentence back")
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
    ) as stream:
        stream.until_done()
    run = stream.get_final_run()
    assert run.status == "completed"
    assert handler.events[:3] == ["thread.run.created", "thread.run.queued", "thread.run.in_progress"]
    assert handler.events[-1] == "thread.run.completed"
    assert "Stream this sentence back" in handler.text
    assert handler.text == last_assistant_text(client, thread)


def test_submit_tool_outputs_stream(client, assistant, thread):
    say(client, thread, "get_weather now")
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        stream.until_done()
    run = stream.get_final_run()
    assert run.status == "requires_action"
    call = run.required_action.submit_tool_outputs.tool_calls[0]

    handler = Recorder()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "cold"}],
        event_handler=handler,
    ) as stream:
        stream.until_done()
    assert handler.events[0] == "thread.run.step.completed"
    assert stream.get_final_run().status == "completed"
    assert "cold" in handler.text


def test_create_and_run_poll(client, assistant):
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": "A brand new thread"}]},
    )
    try:
        assert run.status == "completed"
        messages = client.beta.threads.messages.list(run.thread_id, order="asc").data
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[1].run_id == run.id and messages[1].assistant_id == assistant.id
    finally:
        client.beta.threads.delete(run.thread_id)
