// file_search through the official Node SDK (see sdk.cjs for which one): two files uploaded into a
// vector store with `vectorStores.fileBatches.uploadAndPoll`, then a streamed run forced to search
// (tool_choice, so it does not depend on the model). What a JavaScript client renders is checked the
// way it renders it: the SDK's own accumulation of the deltas must equal the stored message, and each
// citation's span, sliced with JavaScript's UTF-16 string indices, must hold its marker. Run by
// tests/tests/node_sdk.rs.
const test = require('node:test');
const assert = require('node:assert/strict');
const { tenantKey, clientFor, toFile } = require('./sdk.cjs');

const client = clientFor(tenantKey(__filename));

const FOODS =
  'This file describes the favorite foods of several people.\n\n' +
  'Summanus Ferdinand: tacos\nTekakwitha Effie: pizza\nFilip Carola: cake\n';
const PETS = 'Pets of the office.\n\nMarguerite: a tortoise named Öskar 🐢\nDesmond: two cats\n';

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

test('fileBatches.uploadAndPoll, then a streamed file_search run cites the file as the SDK accumulates it', async () => {
  const store = await client.vectorStores.create({ name: 'node favorite foods' });
  const batch = await client.vectorStores.fileBatches.uploadAndPoll(
    store.id,
    {
      files: [
        await toFile(Buffer.from(FOODS), 'favorite_foods.txt', { type: 'text/plain' }),
        await toFile(Buffer.from(PETS), 'office_pets.txt', { type: 'text/plain' }),
      ],
    },
    { pollIntervalMs: 50 },
  );
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.file_counts, { in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 });
  const attachedFiles = [];
  for await (const file of client.vectorStores.fileBatches.listFiles(batch.id, {
    vector_store_id: store.id,
    limit: 1,
  })) {
    attachedFiles.push(file);
  }
  assert.equal(attachedFiles.length, 2);
  assert.ok(attachedFiles.every((file) => file.status === 'completed'));
  const uploaded = await Promise.all(attachedFiles.map((file) => client.files.retrieve(file.id)));
  const foods = uploaded.find((file) => file.filename === 'favorite_foods.txt');
  assert.ok(foods, `favorite_foods.txt not among ${uploaded.map((file) => file.filename)}`);

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
    let accumulatedMessage;
    let completedMessage;
    const stream = client.beta.threads.runs
      .stream(thread.id, {
        assistant_id: assistant.id,
        tool_choice: { type: 'file_search' },
        include: ['step_details.tool_calls[*].file_search.results[*].content'],
      })
      .on('runStepDone', (step) => steps.push(step))
      .on('messageDelta', (_delta, snapshot) => {
        accumulatedMessage = structuredClone(snapshot);
      })
      .on('textDelta', (_delta, snapshot) => {
        accumulated = structuredClone(snapshot);
      })
      .on('messageDone', (message) => {
        completedMessage = message;
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
    assert.equal(results[0].file_id, foods.id);
    assert.equal(results[0].file_name, 'favorite_foods.txt');
    for (const result of results) {
      assert.ok(result.score >= 0 && result.score <= 1, `score ${result.score}`);
      assert.ok(Array.isArray(result.content) && result.content[0].type === 'text');
    }

    // The SDK's accumulation of the deltas (textDelta and messageDelta snapshots), the
    // thread.message.completed payload (messageDone), the message finalMessages() hands out (6.x:
    // its accumulation; 7.x: the completed payload) and the stored message a polling client reads
    // must all show the same text and the same citations.
    const [final] = await stream.finalMessages();
    const [stored] = (await client.beta.threads.messages.list(thread.id, { limit: 1 })).data;
    assert.equal(stored.id, final.id);
    const text = stored.content[0].text;
    assertCitationsHoldTheirMarkers(text, foods.id);
    assert.equal(completedMessage.id, stored.id);
    assert.equal(completedMessage.status, 'completed');
    const renderings = [accumulated, accumulatedMessage, completedMessage, final].map((message) =>
      message.content ? message.content[0].text : message,
    );
    for (const rendered of renderings) {
      assertCitationsHoldTheirMarkers(rendered, foods.id);
      assert.equal(rendered.value, text.value);
      assert.deepEqual(citations(rendered), citations(text));
    }
    assert.match(text.value, /cake/);
  } finally {
    await client.beta.threads.delete(thread.id);
    await client.beta.assistants.delete(assistant.id);
    await client.vectorStores.delete(store.id);
    for (const file of attachedFiles) {
      await client.files.delete(file.id);
    }
  }
});
