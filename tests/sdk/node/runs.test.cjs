// Runs through the official Node SDK (see sdk.cjs for which one) on the reference server's offline
// model: `runs.createAndPoll`, `runs.stream` with its event helpers and `finalRun()`, and
// `submitToolOutputsStream` answering parallel calls. The SDK's own stream parser and delta
// accumulation are part of what is tested (7.x also checks event order and ids strictly).
// Run by tests/tests/node_sdk.rs.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tenantKey, clientFor } = require('./sdk.cjs');

const client = clientFor(tenantKey(__filename));

function functionTool(name, properties = {}) {
  return {
    type: 'function',
    function: {
      name,
      parameters: { type: 'object', properties, required: Object.keys(properties) },
    },
  };
}

const TOOLS = [functionTool('get_weather', { city: { type: 'string' } }), functionTool('get_time')];

async function withAssistantAndThread(firstMessage, body) {
  const assistant = await client.beta.assistants.create({ model: 'gpt-4o', tools: TOOLS });
  const thread = await client.beta.threads.create({
    messages: [{ role: 'user', content: firstMessage }],
  });
  try {
    await body(assistant, thread);
  } finally {
    await client.beta.threads.delete(thread.id);
    await client.beta.assistants.delete(assistant.id);
  }
}

async function latestMessage(thread) {
  const [message] = (await client.beta.threads.messages.list(thread.id, { limit: 1 })).data;
  return message;
}

test('runs.createAndPoll completes and the reply quotes the user', async () => {
  await withAssistantAndThread('Node says hello', async (assistant, thread) => {
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    assert.equal(run.status, 'completed');
    assert.equal(run.usage.total_tokens, run.usage.prompt_tokens + run.usage.completion_tokens);
    assert.ok(run.usage.total_tokens > 0);
    const reply = await latestMessage(thread);
    assert.equal(reply.role, 'assistant');
    assert.equal(reply.run_id, run.id);
    assert.match(reply.content[0].text.value, /Node says hello/);
  });
});

test('createAndPoll stops at requires_action; submitToolOutputsAndPoll finishes', async () => {
  await withAssistantAndThread('Call get_weather for me', async (assistant, thread) => {
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    assert.equal(run.status, 'requires_action');
    const [call] = run.required_action.submit_tool_outputs.tool_calls;
    assert.equal(call.function.name, 'get_weather');
    const finished = await client.beta.threads.runs.submitToolOutputsAndPoll(
      run.id,
      { thread_id: thread.id, tool_outputs: [{ tool_call_id: call.id, output: 'drizzle' }] },
      { pollIntervalMs: 50 },
    );
    assert.equal(finished.status, 'completed');
    assert.match((await latestMessage(thread)).content[0].text.value, /drizzle/);
  });
});

test('runs.stream: event helpers see the run, its step, its message and text; finalRun()', async () => {
  await withAssistantAndThread('Stream it please', async (assistant, thread) => {
    const seen = [];
    let text = '';
    let snapshotText;
    let doneText;
    let doneMessage;
    const stream = client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('event', (event) => seen.push(event.event))
      .on('runStepCreated', (step) => seen.push(`runStepCreated:${step.type}`))
      .on('runStepDone', (step) => seen.push(`runStepDone:${step.status}`))
      .on('messageCreated', (message) => seen.push(`messageCreated:${message.role}`))
      .on('textCreated', () => seen.push('textCreated'))
      .on('textDelta', (delta, snapshot) => {
        text += delta.value;
        snapshotText = snapshot.value;
      })
      .on('textDone', (content, message) => {
        doneText = content.value;
        seen.push(`textDone:${message.id === doneMessage?.id}`);
      })
      .on('messageDone', (message) => {
        doneMessage = message;
        seen.push(`messageDone:${message.status}`);
      })
      .on('end', () => seen.push('end'));
    const run = await stream.finalRun();
    assert.equal(run.status, 'completed');
    assert.deepEqual(seen.slice(0, 3), ['thread.run.created', 'thread.run.queued', 'thread.run.in_progress']);
    for (const expected of [
      'runStepCreated:message_creation',
      'messageCreated:assistant',
      'textCreated',
      'messageDone:completed',
      'runStepDone:completed',
    ]) {
      assert.ok(seen.includes(expected), `${expected} missing from ${seen.join(', ')}`);
    }
    assert.ok(seen.indexOf('messageCreated:assistant') < seen.indexOf('textCreated'));
    assert.ok(seen.indexOf('messageDone:completed') < seen.indexOf('runStepDone:completed'));
    assert.deepEqual(seen.slice(-2), ['thread.run.completed', 'end']);

    assert.match(text, /Stream it please/);
    assert.equal(snapshotText, text);
    assert.equal(doneText, text);
    const stored = await latestMessage(thread);
    assert.equal(stored.id, doneMessage.id);
    assert.equal(stored.content[0].text.value, text);
    assert.deepEqual((await stream.finalMessages()).map((message) => message.id), [stored.id]);
    assert.equal(stream.currentRun().id, run.id);
  });
});

test('runs.stream ends at requires_action; submitToolOutputsStream answers parallel calls', async () => {
  await withAssistantAndThread('Use get_weather and get_time please', async (assistant, thread) => {
    const created = [];
    const done = [];
    const stream = client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('toolCallCreated', (call) => created.push(call.id))
      .on('toolCallDone', (call) => done.push(call));
    const run = await stream.finalRun();
    assert.equal(run.status, 'requires_action');
    const calls = run.required_action.submit_tool_outputs.tool_calls;
    assert.deepEqual(calls.map((call) => call.function.name).sort(), ['get_time', 'get_weather']);
    assert.equal(new Set(calls.map((call) => call.id)).size, 2);
    // The SDK rebuilt both calls from the step deltas, arguments included.
    assert.deepEqual(created, calls.map((call) => call.id));
    assert.deepEqual(
      done.map((call) => [call.id, call.function.name, call.function.arguments]),
      calls.map((call) => [call.id, call.function.name, call.function.arguments]),
    );
    assert.equal(typeof JSON.parse(calls.find((call) => call.function.name === 'get_weather').function.arguments).city, 'string');

    const events = [];
    let text = '';
    const finished = await client.beta.threads.runs
      .submitToolOutputsStream(run.id, {
        thread_id: thread.id,
        tool_outputs: calls.map((call) => ({ tool_call_id: call.id, output: `out-${call.function.name}` })),
      })
      .on('event', (event) => events.push(event.event))
      .on('textDelta', (delta) => {
        text += delta.value;
      })
      .finalRun();
    assert.equal(finished.status, 'completed');
    assert.equal(finished.id, run.id);
    assert.equal(events[0], 'thread.run.step.completed');
    assert.equal(events.at(-1), 'thread.run.completed');
    assert.match(text, /out-get_weather/);
    assert.match(text, /out-get_time/);

    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    assert.deepEqual(steps.data.map((step) => step.type), ['tool_calls', 'message_creation']);
    assert.deepEqual(
      steps.data[0].step_details.tool_calls.map((call) => call.function.output).sort(),
      ['out-get_time', 'out-get_weather'],
    );
  });
});
