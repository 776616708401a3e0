'use strict';

const assert = require('node:assert/strict');
const { afterEach, beforeEach, describe, test } = require('node:test');
const { startApi, assertProblem } = require('../test-support/helpers');
const { create } = require('../test-support/factories');

describe('actions', () => {
  let api;

  beforeEach(async () => {
    api = await startApi();
  });

  afterEach(async () => {
    await api.close();
  });
{% for a in actions %}
{% if a.behavior == "set_field" and a.testable %}

  test('{{ a.method }} {{ a.path }} sets {{ a.field }}', async () => {
    const record = await create(api, '{{ a.resource_name }}', 0{% if a.start %}, { {{ a.field }}: {{ a.start }} }{% endif %});
    const response = await api.request('{{ a.method }}', `{{ a.test_path }}`{% if a.input_sample %}, { body: {{ a.input_sample }} }{% endif %});
{% if a.output_empty %}
    assert.equal(response.status, 204, response.text);
{% else %}
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body.{{ a.field }}, {{ a.value }});
    assert.equal(response.body.id, record.id);
{% endif %}
{% if a.resource_get %}
    const stored = await api.get(`{{ a.resource_path }}/${record.id}`);
    assert.deepEqual(stored.body.{{ a.field }}, {{ a.value }});
{% endif %}
  });

  test('{{ a.method }} {{ a.path }} for an unknown id is 404', async () => {
    const record = { id: 999999 };
    assertProblem(await api.request('{{ a.method }}', `{{ a.test_path }}`{% if a.input_sample %}, { body: {{ a.input_sample }} }{% endif %}), 404);
  });
{% if a.blocked %}

  test('{{ a.method }} {{ a.path }} refuses when {{ a.field }} is not one it applies to', async () => {
    const record = await create(api, '{{ a.resource_name }}', 0, { {{ a.field }}: {{ a.blocked }} });
    assertProblem(await api.request('{{ a.method }}', `{{ a.test_path }}`{% if a.input_sample %}, { body: {{ a.input_sample }} }{% endif %}), 409);
  });
{% endif %}
{% elif a.behavior == "not_implemented" %}

  test('{{ a.method }} {{ a.path }} answers 501 until it has a handler', async () => {
    assertProblem(await api.request('{{ a.method }}', '{{ a.placeholder_path }}'), 501);
  });
{% endif %}
{% endfor %}
});
