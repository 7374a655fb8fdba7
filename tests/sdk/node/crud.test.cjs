// CRUD through the official Node SDK (see sdk.cjs for which one): `for await` auto-pagination over
// lists longer than one page, retrieve/update/delete, and the SDK's error classes on the server's
// answers (the class is picked by the SDK from the status; the message is OpenAI's recorded text).
// Run by tests/tests/node_sdk.rs.
const test = require('node:test');
const assert = require('node:assert/strict');
const { OpenAI, tenantKey, clientFor } = require('./sdk.cjs');

const client = clientFor(tenantKey(__filename));

async function collect(page) {
  const items = [];
  for await (const item of page) {
    items.push(item);
  }
  return items;
}

test('for await pages through assistants, newest first, across several pages', async () => {
  const created = [];
  try {
    for (let i = 0; i < 7; i += 1) {
      created.push(await client.beta.assistants.create({ model: 'gpt-4o', name: `node-page-${i}` }));
    }
    const firstPage = await client.beta.assistants.list({ limit: 3 });
    assert.equal(firstPage.data.length, 3);
    assert.equal(firstPage.has_more, true);
    assert.ok(firstPage.hasNextPage());

    const listed = await collect(client.beta.assistants.list({ limit: 3 }));
    assert.deepEqual(
      listed.map((assistant) => assistant.id),
      created.map((assistant) => assistant.id).reverse(),
    );
    const ascending = await collect(client.beta.assistants.list({ limit: 2, order: 'asc' }));
    assert.deepEqual(
      ascending.map((assistant) => assistant.name),
      created.map((assistant) => assistant.name),
    );
  } finally {
    for (const assistant of created) {
      await client.beta.assistants.delete(assistant.id);
    }
  }
  assert.deepEqual(await collect(client.beta.assistants.list({ limit: 3 })), []);
});

test('assistant retrieve, update and delete round-trip', async () => {
  const assistant = await client.beta.assistants.create({
    model: 'gpt-4o',
    name: 'node crud',
    metadata: { suite: 'crud' },
  });
  assert.match(assistant.id, /^asst_/);
  assert.equal(assistant.object, 'assistant');
  const updated = await client.beta.assistants.update(assistant.id, {
    instructions: 'Be brief.',
    metadata: { suite: 'crud', step: 'updated' },
  });
  assert.equal(updated.instructions, 'Be brief.');
  assert.deepEqual(updated.metadata, { suite: 'crud', step: 'updated' });
  assert.deepEqual(await client.beta.assistants.retrieve(assistant.id), updated);
  const deleted = await client.beta.assistants.delete(assistant.id);
  assert.deepEqual(deleted, { id: assistant.id, object: 'assistant.deleted', deleted: true });
});

test('thread messages page with for await in both orders', async () => {
  const thread = await client.beta.threads.create({
    messages: [{ role: 'user', content: 'message 0' }],
  });
  try {
    for (let i = 1; i < 5; i += 1) {
      await client.beta.threads.messages.create(thread.id, { role: 'user', content: `message ${i}` });
    }
    const text = (message) => message.content[0].text.value;
    const ascending = await collect(
      client.beta.threads.messages.list(thread.id, { limit: 2, order: 'asc' }),
    );
    assert.deepEqual(ascending.map(text), ['message 0', 'message 1', 'message 2', 'message 3', 'message 4']);
    const descending = await collect(client.beta.threads.messages.list(thread.id, { limit: 2 }));
    assert.deepEqual(descending.map(text), ascending.map(text).reverse());

    const [first] = ascending;
    const modified = await client.beta.threads.messages.update(first.id, {
      thread_id: thread.id,
      metadata: { seen: 'yes' },
    });
    assert.deepEqual(modified.metadata, { seen: 'yes' });
    const removed = await client.beta.threads.messages.delete(first.id, { thread_id: thread.id });
    assert.deepEqual(removed, { id: first.id, object: 'thread.message.deleted', deleted: true });
    assert.equal((await collect(client.beta.threads.messages.list(thread.id, { limit: 2 }))).length, 4);
  } finally {
    await client.beta.threads.delete(thread.id);
  }
});

test('NotFoundError for a missing or foreign object, with OpenAI\'s message', async () => {
  const assistant = await client.beta.assistants.create({ model: 'gpt-4o' });
  const stranger = clientFor(tenantKey(__filename, '-stranger'));
  try {
    await assert.rejects(stranger.beta.assistants.retrieve(assistant.id), (error) => {
      assert.ok(error instanceof OpenAI.NotFoundError, `got ${error}`);
      assert.equal(error.status, 404);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.error.message, `No assistant found with id '${assistant.id}'.`);
      return true;
    });
  } finally {
    await client.beta.assistants.delete(assistant.id);
  }
  await assert.rejects(client.beta.assistants.retrieve(assistant.id), OpenAI.NotFoundError);
  await assert.rejects(client.beta.threads.retrieve('thread_missing'), (error) => {
    assert.ok(error instanceof OpenAI.NotFoundError, `got ${error}`);
    assert.equal(error.error.message, "No thread found with id 'thread_missing'.");
    return true;
  });
  await assert.rejects(client.files.retrieve('file-missing'), (error) => {
    assert.ok(error instanceof OpenAI.NotFoundError, `got ${error}`);
    assert.equal(error.error.message, 'No such File object: file-missing');
    assert.equal(error.param, 'id');
    return true;
  });
});

test('BadRequestError for an invalid body, with param and code', async () => {
  const thread = await client.beta.threads.create();
  try {
    await assert.rejects(
      client.beta.threads.update(thread.id, { metadata: { modified: true } }),
      (error) => {
        assert.ok(error instanceof OpenAI.BadRequestError, `got ${error}`);
        assert.equal(error.status, 400);
        assert.equal(
          error.error.message,
          "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
        );
        assert.equal(error.param, 'metadata.modified');
        assert.equal(error.code, 'invalid_type');
        return true;
      },
    );
  } finally {
    await client.beta.threads.delete(thread.id);
  }
});

test('AuthenticationError when no API key is sent', async () => {
  await assert.rejects(
    client.beta.assistants.list({}, { headers: { Authorization: null } }),
    (error) => {
      assert.ok(error instanceof OpenAI.AuthenticationError, `got ${error}`);
      assert.equal(error.status, 401);
      assert.match(error.error.message, /^You didn't provide an API key\./);
      assert.equal(error.type, 'invalid_request_error');
      return true;
    },
  );
});
