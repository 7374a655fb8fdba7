// The official Node SDK (`openai`, pinned in package.json) against an Assistants-compatible server,
// run by tests/tests/node_sdk.rs with OPENAI_BASE_URL pointing at the reference server's offline model.
// The SDK's own strict stream parser is part of what is tested.
const test = require('node:test');
const assert = require('node:assert/strict');
const OpenAI = require('openai');

const client = new OpenAI({
  baseURL: process.env.OPENAI_BASE_URL,
  apiKey: process.env.OPENAI_API_KEY || 'sk-node-sdk',
  maxRetries: 0,
});

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
};

async function withAssistantAndThread(firstMessage, body) {
  const assistant = await client.beta.assistants.create({ model: 'gpt-4o', tools: [weather] });
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

test('runs.createAndPoll completes and the reply quotes the user', async () => {
  await withAssistantAndThread('Node says hello', async (assistant, thread) => {
    const run = await client.beta.threads.runs.createAndPoll(thread.id, {
      assistant_id: assistant.id,
    });
    assert.equal(run.status, 'completed');
    assert.ok(run.usage.total_tokens > 0);
    const [reply] = (await client.beta.threads.messages.list(thread.id, { limit: 1 })).data;
    assert.equal(reply.role, 'assistant');
    assert.match(reply.content[0].text.value, /Node says hello/);
  });
});

test('runs.stream delivers text deltas, then requires_action and submitToolOutputsStream', async () => {
  await withAssistantAndThread('Stream it please', async (assistant, thread) => {
    let text = '';
    const events = [];
    const stream = client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .on('event', (event) => events.push(event.event))
      .on('textDelta', (delta) => {
        text += delta.value;
      });
    const run = await stream.finalRun();
    assert.equal(run.status, 'completed');
    assert.deepEqual(events.slice(0, 3), [
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
    ]);
    assert.equal(events.at(-1), 'thread.run.completed');
    assert.match(text, /Stream it please/);
  });

  await withAssistantAndThread('Call get_weather for me', async (assistant, thread) => {
    const run = await client.beta.threads.runs
      .stream(thread.id, { assistant_id: assistant.id })
      .finalRun();
    assert.equal(run.status, 'requires_action');
    const [call] = run.required_action.submit_tool_outputs.tool_calls;
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');

    let text = '';
    const finished = await client.beta.threads.runs
      .submitToolOutputsStream(run.id, {
        thread_id: thread.id,
        tool_outputs: [{ tool_call_id: call.id, output: 'foggy' }],
      })
      .on('textDelta', (delta) => {
        text += delta.value;
      })
      .finalRun();
    assert.equal(finished.status, 'completed');
    assert.match(text, /foggy/);
  });
});
