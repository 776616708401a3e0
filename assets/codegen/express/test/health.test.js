'use strict';

const assert = require('node:assert/strict');
const { afterEach, beforeEach, describe, test } = require('node:test');
const { startApi, assertProblem } = require('../test-support/helpers');

describe('service', () => {
  let api;

  beforeEach(async () => {
    api = await startApi();
  });

  afterEach(async () => {
    await api.close();
  });

  test('GET /health reports ok', async () => {
    const response = await api.get('/health');
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { status: 'ok' });
  });

  test('an unknown route is a 404 problem', async () => {
    assertProblem(await api.get('/no/such/route'), 404);
  });
});
