// file_search through the official Node SDK (pinned in package.json): a file uploaded into a vector
// store with `vectorStores.files.uploadAndPoll`, then a streamed run forced to search it. What a
// JavaScript client renders is checked the way it renders it: the SDK's own accumulation of the
// deltas must equal the final message, and each citation's span, sliced with JavaScript's
// UTF-16 string indices, must hold its marker. Run by tests/tests/node_sdk.rs.
const test = require('node:test');
const assert = require('node:assert/strict');
const OpenAI = require('openai');
const { toFile } = require('openai');

const client = new OpenAI({
  baseURL: process.env.OPENAI_BASE_URL,
  apiKey: process.env.OPENAI_API_KEY || 'sk-node-sdk',
  maxRetries: 0,
});

const FOODS =
  'This file describes the favorite foods of several people.\n\n' +
  'Summanus Ferdinand: tacos\nTekakwitha Effie: pizza\nFilip Carola: cake\n';

function assertCitationsHoldTheirMarkers(text, fileId) {
  assert.ok(text.annotations.length > 0, `no citation in ${JSON.stringify(text.value)}`);
  for (const annotation of text.annotations) {
    assert.equal(annotation.type, 'file_citation');
    assert.equal(annotation.file_citation.file_id, fileId);
    assert.match(annotation.text, /^【\d+:\d+†favorite_foods\.txt】$/);
    assert.equal(text.value.slice(annotation.start_index, annotation.end_index), annotation.text);
  }
}

function citations(text) {
  return text.annotations.map(({ text, start_index, end_index, file_citation }) => [
    text,
    start_index,
    end_index,
    file_citation.file_id,
  ]);
}

test('uploadAndPoll, then a streamed file_search run cites the file as the SDK accumulates it', async () => {
  const store = await client.vectorStores.create({ name: 'node favorite foods' });
  const attached = await client.vectorStores.files.uploadAndPoll(
    store.id,
    await toFile(Buffer.from(FOODS), 'favorite_foods.txt', { type: 'text/plain' }),
    { pollIntervalMs: 100 },
  );
  assert.equal(attached.status, 'completed');
  const assistant = await client.beta.assistants.create({
    model: 'gpt-4o',
    tools: [{ type: 'file_search' }],
    tool_resources: { file_search: { vector_store_ids: [store.id] } },
  });
  const thread = await client.beta.threads.create({
    messages: [{ role: 'user', content: "Using the files you have available, what's Filip's favorite food?" }],
  });
  try {
    const steps = [];
    let accumulated;
    const stream = client.beta.threads.runs
      .stream(thread.id, {
        assistant_id: assistant.id,
        tool_choice: { type: 'file_search' },
        include: ['step_details.tool_calls[*].file_search.results[*].content'],
      })
      .on('runStepDone', (step) => steps.push(step))
      .on('textDelta', (_delta, snapshot) => {
        accumulated = snapshot;
      });
    const run = await stream.finalRun();
    assert.equal(run.status, 'completed');

    // The deltas carry `results: []` (as OpenAI's did); the completed step carries the results.
    assert.deepEqual(steps.map((step) => step.type), ['tool_calls', 'message_creation']);
    const toolCalls = steps[0].step_details.tool_calls;
    assert.equal(toolCalls.length, 1);
    assert.equal(toolCalls[0].type, 'file_search');
    const results = toolCalls[0].file_search.results;
    assert.ok(results.length > 0);
    for (const result of results) {
      assert.equal(result.file_id, attached.id);
      assert.ok(result.score >= 0 && result.score <= 1, `score ${result.score}`);
    }

    // finalMessages() is the SDK's accumulation of the deltas; the stored message is what a
    // polling client reads. Both must show the same text and the same citations.
    const [final] = await stream.finalMessages();
    const streamed = final.content[0].text;
    assert.equal(accumulated.value, streamed.value);
    const [stored] = (await client.beta.threads.messages.list(thread.id, { limit: 1 })).data;
    assert.equal(stored.id, final.id);
    const text = stored.content[0].text;
    assertCitationsHoldTheirMarkers(text, attached.id);
    assertCitationsHoldTheirMarkers(streamed, attached.id);
    assert.equal(streamed.value, text.value);
    assert.deepEqual(citations(streamed), citations(text));
  } finally {
    await client.beta.threads.delete(thread.id);
    await client.beta.assistants.delete(assistant.id);
    await client.vectorStores.delete(store.id);
    await client.files.delete(attached.id);
  }
});
