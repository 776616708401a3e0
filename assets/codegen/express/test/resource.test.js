'use strict';

{% if r.creatable or r.ops.list or r.disabled %}
const assert = require('node:assert/strict');
{% endif %}
const { afterEach, beforeEach, describe, test } = require('node:test');
{% if r.creatable %}
const {
  startApi, assertProblem, assertInvalid, assertFields, assertRepresentation{% if r.sort and r.ops.list %}, compare{% endif %},
} = require('../test-support/helpers');
const { {% if r.ops.replace %}SAMPLES, {% endif %}buildBody, create } = require('../test-support/factories');
{% else %}
const { startApi, assertProblem, assertInvalid } = require('../test-support/helpers');
{% endif %}
{% if r.required and r.creatable %}

/** Fields a create must carry. */
const REQUIRED = {{ r.required }};
{% endif %}
{% if r.invalid and r.creatable %}

/** [field, value, why]: values the server must reject. */
const INVALID = {{ r.invalid }};
{% endif %}
{% if r.defaults and r.creatable %}

/** [field, default]: what an omitted optional field becomes. */
const DEFAULTS = {{ r.defaults }};
{% endif %}

describe('{{ r.path }}', () => {
  let api;

  beforeEach(async () => {
    api = await startApi();
  });

  afterEach(async () => {
    await api.close();
  });
{% if r.creatable %}

  test('POST {{ r.path }} creates {{ r.a_name }}', async () => {
    const body = await buildBody(api, '{{ r.name }}', 0);
    const response = await api.post('{{ r.path }}', body);
    assert.equal(response.status, 201, response.text);
    assert.match(response.headers['content-type'], /^application\/json/);
    assert.equal(response.headers.location, `{{ r.path }}/${response.body.id}`);
    assertRepresentation(response.body);
    assertFields(response.body, body);
{% if r.ops.get %}
    const fetched = await api.get(`{{ r.path }}/${response.body.id}`);
    assert.equal(fetched.status, 200, fetched.text);
    assert.deepEqual(fetched.body, response.body);
{% endif %}
  });
{% if r.required %}

  for (const field of REQUIRED) {
    test(`POST {{ r.path }} without ${field} is rejected`, async () => {
      const body = await buildBody(api, '{{ r.name }}', 0);
      delete body[field];
      assertInvalid(await api.post('{{ r.path }}', body), ['body', field]);
    });
  }
{% endif %}
{% if r.invalid %}

  for (const [field, value, why] of INVALID) {
    test(`POST {{ r.path }} rejects ${field}: ${why}`, async () => {
      const body = await buildBody(api, '{{ r.name }}', 0);
      assertInvalid(await api.post('{{ r.path }}', { ...body, [field]: value }), ['body', field]);
    });
  }
{% endif %}

  test('POST {{ r.path }} with malformed JSON is rejected', async () => {
    const response = await api.request('POST', '{{ r.path }}', { rawBody: '{"oops": ' });
    assertInvalid(response, ['body']);
  });

  test('POST {{ r.path }} with a non-object body is rejected', async () => {
    assertInvalid(await api.post('{{ r.path }}', [1, 2, 3]), ['body']);
  });
{% if r.defaults %}

  for (const [field, expected] of DEFAULTS) {
    test(`POST {{ r.path }} without ${field} applies its default`, async () => {
      const body = await buildBody(api, '{{ r.name }}', 0);
      delete body[field];
      const response = await api.post('{{ r.path }}', body);
      assert.equal(response.status, 201, response.text);
      assert.deepEqual(response.body[field], expected);
    });
  }
{% endif %}
{% for field in r.unique %}

  test('POST {{ r.path }} with a duplicate {{ field }} conflicts', async () => {
    const first = await create(api, '{{ r.name }}', 0);
    const body = await buildBody(api, '{{ r.name }}', 1, { {{ field }}: first.{{ field }} });
    assertProblem(await api.post('{{ r.path }}', body), 409);
  });
{% endfor %}
{% endif %}
{% if r.ops.get %}

  test('GET {{ r.path }}/{id} for an unknown id is 404', async () => {
    assertProblem(await api.get('{{ r.path }}/999999'), 404);
  });

  test('GET {{ r.path }}/{id} with a non-integer id is rejected', async () => {
    assertInvalid(await api.get('{{ r.path }}/not-a-number'), ['path', 'id']);
  });
{% endif %}
{% if r.ops.list %}

  test('GET {{ r.path }} returns the list envelope', async () => {
    const response = await api.get('{{ r.path }}');
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { items: [], total: 0, limit: {{ r.default_page_size }}, offset: 0 });
  });

  for (const query of ['limit=0', 'limit={{ r.max_page_size + 1 }}', 'limit=ten', 'offset=-1', 'sort=no_such_field', 'limit=1&limit=2']) {
    test(`GET {{ r.path }}?${query} is rejected`, async () => {
      const response = await api.get(`{{ r.path }}?${query}`);
      assertInvalid(response, ['query', query.split('=')[0]]);
    });
  }
{% if r.creatable %}

  test('GET {{ r.path }} pages with limit and offset', async () => {
    const created = [];
    for (const index of [0, 1, 2]) {
      created.push(await create(api, '{{ r.name }}', index));
    }
    const first = await api.get('{{ r.path }}?limit=2');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.total, 3);
    assert.equal(first.body.limit, 2);
    assert.deepEqual(first.body.items.map((item) => item.id), [created[0].id, created[1].id]);
    const second = await api.get('{{ r.path }}?limit=2&offset=2');
    assert.equal(second.body.offset, 2);
    assert.deepEqual(second.body.items.map((item) => item.id), [created[2].id]);
    const descending = await api.get('{{ r.path }}?sort=-id');
    assert.deepEqual(descending.body.items.map((item) => item.id), created.map((item) => item.id).reverse());
  });
{% for field in r.sort %}

  test('GET {{ r.path }} sorts by {{ field }}', async () => {
    for (const index of [2, 0, 1]) {
      await create(api, '{{ r.name }}', index);
    }
    const ascending = (await api.get('{{ r.path }}?sort={{ field }}')).body.items.map((item) => item.{{ field }});
    assert.equal(ascending.length, 3);
    assert.deepEqual(ascending, [...ascending].sort(compare));
    const descending = (await api.get('{{ r.path }}?sort=-{{ field }}')).body.items.map((item) => item.{{ field }});
    assert.deepEqual(descending, [...ascending].sort(compare).reverse());
  });
{% endfor %}
{% for filter in r.filters %}

  test('GET {{ r.path }}?{{ filter.field }}= filters', async () => {
{% if filter.parent %}
    // Parents 2 and 3, so they never collide with the parents samples 0 and 1 create.
    const first = await create(api, '{{ r.name }}', 0, { {{ filter.field }}: (await create(api, '{{ filter.parent }}', 2)).id });
    const second = await create(api, '{{ r.name }}', 1, { {{ filter.field }}: (await create(api, '{{ filter.parent }}', 3)).id });
{% else %}
    const first = await create(api, '{{ r.name }}', 0);
{% if filter.distinct %}
    const second = await create(api, '{{ r.name }}', 1);
{% endif %}
{% endif %}
    const response = await api.get(`{{ r.path }}?{{ filter.field }}=${encodeURIComponent(String(first.{{ filter.field }}))}`);
    assert.equal(response.status, 200, response.text);
    const ids = response.body.items.map((item) => item.id);
    assert.ok(ids.includes(first.id));
{% if filter.distinct %}
    assert.ok(!ids.includes(second.id));
{% endif %}
    for (const item of response.body.items) {
      assert.deepEqual(item.{{ filter.field }}, first.{{ filter.field }});
    }
  });
{% if filter.invalid %}

  test('GET {{ r.path }}?{{ filter.field }}= with an invalid value is rejected', async () => {
    assertInvalid(await api.get('{{ r.path }}?{{ filter.field }}={{ filter.invalid }}'), ['query', '{{ filter.field }}']);
  });
{% endif %}
{% endfor %}
{% if r.search %}

  test('GET {{ r.path }}?q= searches case-insensitively', async () => {
    const first = await create(api, '{{ r.name }}', 0);
{% if r.search.excludes_second %}
    const second = await create(api, '{{ r.name }}', 1);
{% endif %}
    const found = await api.get(`{{ r.path }}?q=${encodeURIComponent({{ r.search.needle }})}`);
    assert.equal(found.status, 200, found.text);
    const ids = found.body.items.map((item) => item.id);
    assert.ok(ids.includes(first.id));
{% if r.search.excludes_second %}
    assert.ok(!ids.includes(second.id));
{% endif %}
    const none = await api.get('{{ r.path }}?q=zq-no-such-text-qz');
    assert.deepEqual(none.body.items, []);
    assert.equal(none.body.total, 0);
  });
{% endif %}
{% endif %}
{% endif %}
{% if r.ops.replace and r.creatable %}

  test('PUT {{ r.path }}/{id} replaces {{ r.a_name }}', async () => {
    const original = await create(api, '{{ r.name }}', 0);
    const keep = Object.fromEntries({{ r.relation_fields }}.map((field) => [field, original[field]]));
    const body = { ...SAMPLES.{{ r.name }}[1], ...keep };
    const response = await api.put(`{{ r.path }}/${original.id}`, body);
    assert.equal(response.status, 200, response.text);
    assertFields(response.body, body);
    assert.equal(response.body.id, original.id);
    assert.equal(response.body.created_at, original.created_at);
    assert.ok(response.body.updated_at >= original.updated_at);
  });

  test('PUT {{ r.path }}/{id} for an unknown id is 404', async () => {
    const body = await buildBody(api, '{{ r.name }}', 0);
    assertProblem(await api.put('{{ r.path }}/999999', body), 404);
  });
{% if r.invalid %}

  test('PUT {{ r.path }}/{id} validates the body', async () => {
    const original = await create(api, '{{ r.name }}', 0);
    const [field, value] = INVALID[0];
    const body = await buildBody(api, '{{ r.name }}', 1, { [field]: value });
    assertInvalid(await api.put(`{{ r.path }}/${original.id}`, body), ['body', field]);
  });
{% endif %}
{% endif %}
{% if r.ops.patch and r.creatable %}

  test('PATCH {{ r.path }}/{id} changes only the given fields', async () => {
    const original = await create(api, '{{ r.name }}', 0);
    const change = {{ r.patch }};
    const response = await api.patch(`{{ r.path }}/${original.id}`, change);
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { ...original, ...change, updated_at: response.body.updated_at });
  });

  test('PATCH {{ r.path }}/{id} for an unknown id is 404', async () => {
    assertProblem(await api.patch('{{ r.path }}/999999', {}), 404);
  });
{% if r.invalid %}

  test('PATCH {{ r.path }}/{id} validates the given fields', async () => {
    const original = await create(api, '{{ r.name }}', 0);
    const [field, value] = INVALID[0];
    assertInvalid(await api.patch(`{{ r.path }}/${original.id}`, { [field]: value }), ['body', field]);
  });
{% endif %}
{% endif %}
{% if r.ops.delete and r.creatable %}

  test('DELETE {{ r.path }}/{id} removes {{ r.a_name }}', async () => {
    const original = await create(api, '{{ r.name }}', 0);
    const response = await api.delete(`{{ r.path }}/${original.id}`);
    assert.equal(response.status, 204, response.text);
    assert.equal(response.text, '');
{% if r.ops.get %}
    assertProblem(await api.get(`{{ r.path }}/${original.id}`), 404);
{% endif %}
    assertProblem(await api.delete(`{{ r.path }}/${original.id}`), 404);
  });
{% endif %}
{% for op in r.disabled %}

  test('{{ op.method }} {{ op.path }} is not offered', async () => {
    const response = await api.request('{{ op.method }}', '{{ op.request_path }}'{% if op.body %}, { body: {} }{% endif %});
{% if op.served %}
    assertProblem(response, 405);
    assert.ok(!response.headers.allow.split(', ').includes('{{ op.method }}'));
{% else %}
    assertProblem(response, 404);
    assert.match(response.body.detail, /^No route matches/);
{% endif %}
  });
{% endfor %}
{% for rel in r.relations %}
{% if r.creatable %}

  test('POST {{ r.path }} with an unknown {{ rel.field }} is rejected', async () => {
    const body = await buildBody(api, '{{ r.name }}', 0, { {{ rel.field }}: 999999 });
    const response = await api.post('{{ r.path }}', body);
    assertProblem(response, 409);
    assert.deepEqual(response.body.errors.map((error) => error.loc), [['body', '{{ rel.field }}']]);
  });
{% if rel.testable %}

  test('deleting {{ rel.a_target }} {{ rel.effect }}', async () => {
    // Sample 1: the parents sample 0 creates for itself are samples 0, so this one never
    // collides with them on a unique field, and only `child` refers to it.
    const parent = await create(api, '{{ rel.target }}', 1);
    const child = await create(api, '{{ r.name }}', 0, { {{ rel.field }}: parent.id });
    assert.equal(child.{{ rel.field }}, parent.id);
    const response = await api.delete(`{{ rel.target_path }}/${parent.id}`);
{% if rel.on_delete == "restrict" %}
    assertProblem(response, 409);
    assert.equal((await api.get(`{{ r.path }}/${child.id}`)).status, 200);
    assert.equal((await api.delete(`{{ r.path }}/${child.id}`)).status, 204);
    assert.equal((await api.delete(`{{ rel.target_path }}/${parent.id}`)).status, 204);
{% elif rel.on_delete == "cascade" %}
    assert.equal(response.status, 204, response.text);
    assertProblem(await api.get(`{{ r.path }}/${child.id}`), 404);
{% else %}
    assert.equal(response.status, 204, response.text);
    const orphan = await api.get(`{{ r.path }}/${child.id}`);
    assert.equal(orphan.status, 200, orphan.text);
    assert.equal(orphan.body.{{ rel.field }}, null);
{% endif %}
  });
{% endif %}
{% endif %}
{% endfor %}
});
