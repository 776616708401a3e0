'use strict';

const assert = require('node:assert/strict');
const { afterEach, beforeEach, describe, test } = require('node:test');
{% if auth.kind == "api_key" %}
const { startApi, assertProblem, TEST_SECRET } = require('../test-support/helpers');
{% else %}
const { startApi, assertProblem, signJwt, nowSeconds, TEST_SECRET } = require('../test-support/helpers');
const { verifyJwt } = require('../src/auth');
{% endif %}

const PROBE = '{{ probe.path }}';

describe('authentication', () => {
  let api;

  beforeEach(async () => {
    api = await startApi({ authenticated: false });
  });

  afterEach(async () => {
    await api.close();
  });

  test('/health needs no credentials', async () => {
    assert.equal((await api.get('/health')).status, 200);
  });

  test('a request without credentials is refused', async () => {
    const response = await api.get(PROBE);
    assertProblem(response, 401);
{% if auth.kind == "bearer_jwt" %}
    assert.equal(response.headers['www-authenticate'], 'Bearer');
{% endif %}
  });

  test('credentials are checked before anything else, even for unknown routes', async () => {
    assertProblem(await api.get('/no/such/route'), 401);
  });
{% if auth.kind == "api_key" %}

  test('a valid API key in {{ auth.header }} is accepted', async () => {
    const response = await api.get(PROBE, { headers: { '{{ auth.header }}': TEST_SECRET } });
    assert.equal(response.status, {{ probe.status }}, response.text);
  });

  for (const [why, key] of [['a wrong key', 'wrong-key'], ['a key prefix', TEST_SECRET.slice(0, 8)], ['a longer key', `${TEST_SECRET}x`]]) {
    test(`${why} is refused`, async () => {
      assertProblem(await api.get(PROBE, { headers: { '{{ auth.header }}': key } }), 401);
    });
  }
{% else %}

  const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });

  test('a valid token is accepted', async () => {
    const token = signJwt({ sub: 'someone', exp: nowSeconds() + 60 });
    const response = await api.get(PROBE, bearer(token));
    assert.equal(response.status, {{ probe.status }}, response.text);
  });

  const refused = [
    ['a token signed with another secret', () => signJwt({ sub: 'x', exp: nowSeconds() + 60 }, 'another-secret')],
    ['an expired token', () => signJwt({ sub: 'x', exp: nowSeconds() - 10 })],
    ['a token that is not valid yet', () => signJwt({ sub: 'x', nbf: nowSeconds() + 600 })],
    ['an unsigned token (alg none)', () => signJwt({ sub: 'x' }, TEST_SECRET, { alg: 'none' })],
    ['a token with a tampered payload', () => {
      const [header, , signature] = signJwt({ sub: 'x', exp: nowSeconds() + 60 }).split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'admin', exp: nowSeconds() + 60 })).toString('base64url');
      return `${header}.${payload}.${signature}`;
    }],
    ['garbage', () => 'not-a-jwt'],
  ];
  for (const [why, token] of refused) {
    test(`${why} is refused`, async () => {
      const response = await api.get(PROBE, bearer(token()));
      assertProblem(response, 401);
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    });
  }

  test('a non-Bearer Authorization header is refused', async () => {
    assertProblem(await api.get(PROBE, { headers: { Authorization: `Basic ${TEST_SECRET}` } }), 401);
  });

  test('verifyJwt returns the claims of a valid token', () => {
    const claims = verifyJwt(signJwt({ sub: 'someone', exp: 2000 }), TEST_SECRET, 1000);
    assert.deepEqual(claims, { sub: 'someone', exp: 2000 });
    assert.throws(() => verifyJwt(signJwt({ sub: 'someone', exp: 2000 }), TEST_SECRET, 2000), /expired/);
  });
{% endif %}
});
