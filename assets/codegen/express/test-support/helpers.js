'use strict';

// Starts the app in-process on a Unix socket (no network needed) with a fresh database,
// and sends real HTTP requests to it.

const assert = require('node:assert/strict');
{% if auth.kind == "bearer_jwt" %}
const crypto = require('node:crypto');
{% endif %}
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { createApp } = require('../src/app');

{% if auth.kind == "api_key" %}
const TEST_SECRET = 'test-api-key-0123456789';
const AUTH_ENV = { {{ auth.env_var }}: TEST_SECRET };
const AUTH_HEADERS = { '{{ auth.header }}': TEST_SECRET };
{% elif auth.kind == "bearer_jwt" %}
const TEST_SECRET = 'test-jwt-secret-0123456789';
const AUTH_ENV = { {{ auth.env_var }}: TEST_SECRET };

/** Signs `claims` as an HS256 JSON Web Token. */
function signJwt(claims, secret = TEST_SECRET, header = { alg: 'HS256', typ: 'JWT' }) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(claims)}`;
  const signature = crypto.createHmac('sha256', secret).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const AUTH_HEADERS = { Authorization: `Bearer ${signJwt({ sub: 'test-user', exp: nowSeconds() + 3600 })}` };
{% else %}
const AUTH_ENV = {};
const AUTH_HEADERS = {};
{% endif %}

function send(socketPath, method, urlPath, { body, rawBody, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const payload = rawBody !== undefined ? rawBody : body !== undefined ? JSON.stringify(body) : undefined;
    const allHeaders = { ...headers };
    if (payload !== undefined) {
      allHeaders['Content-Type'] ??= 'application/json';
      allHeaders['Content-Length'] = Buffer.byteLength(payload);
    }
    const request = http.request({ socketPath, method, path: urlPath, headers: allHeaders }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const json = text && /json/.test(response.headers['content-type'] || '') ? JSON.parse(text) : undefined;
        resolve({ status: response.statusCode, headers: response.headers, text, body: json });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    if (payload !== undefined) {
      request.write(payload);
    }
    request.end();
  });
}

/**
 * Starts the app against an empty database in a temp dir. Requests carry valid
 * credentials unless `authenticated` is false.
 */
async function startApi({ authenticated = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-test-'));
  const app = await createApp({ dbPath: path.join(dir, 'test.db'), env: { ...process.env, ...AUTH_ENV } });
  const socketPath = path.join(dir, 'http.sock');
  const server = http.createServer(app);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  const defaults = authenticated ? AUTH_HEADERS : {};
  const request = (method, urlPath, options = {}) =>
    send(socketPath, method, urlPath, { ...options, headers: { ...defaults, ...options.headers } });
  return {
    dbFile: path.join(dir, 'test.db'),
    request,
    get: (urlPath, options) => request('GET', urlPath, options),
    post: (urlPath, body, options) => request('POST', urlPath, { ...options, body }),
    put: (urlPath, body, options) => request('PUT', urlPath, { ...options, body }),
    patch: (urlPath, body, options) => request('PATCH', urlPath, { ...options, body }),
    delete: (urlPath, options) => request('DELETE', urlPath, options),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      app.locals.db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts an RFC 9457 problem+json response with this status. */
function assertProblem(response, status) {
  assert.equal(response.status, status, response.text);
  assert.equal(response.headers['content-type'], 'application/problem+json');
  assert.equal(response.body.type, 'about:blank');
  assert.equal(response.body.status, status);
  assert.equal(typeof response.body.title, 'string');
  assert.equal(typeof response.body.detail, 'string');
}

/** Asserts a 422 whose errors name `loc`. */
function assertInvalid(response, loc) {
  assertProblem(response, 422);
  assert.ok(
    response.body.errors.some((error) => JSON.stringify(error.loc) === JSON.stringify(loc)),
    `expected an error at ${JSON.stringify(loc)}, got ${JSON.stringify(response.body.errors)}`,
  );
}

/** Asserts that `actual` holds every property of `expected`. */
function assertFields(actual, expected) {
  for (const [name, value] of Object.entries(expected)) {
    assert.deepEqual(actual[name], value, `field ${name}`);
  }
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Asserts the representation's server-assigned properties. */
function assertRepresentation(item) {
  assert.ok(Number.isInteger(item.id), `id ${item.id}`);
  assert.match(item.created_at, RFC3339_UTC);
  assert.match(item.updated_at, RFC3339_UTC);
}

/** Total order used to check sorted lists: nulls first, like SQLite. */
function compare(a, b) {
  if (a === b) {
    return 0;
  }
  if (a === null) {
    return -1;
  }
  if (b === null) {
    return 1;
  }
  const [x, y] = typeof a === 'object' ? [JSON.stringify(a), JSON.stringify(b)] : [a, b];
  if (x < y) {
    return -1;
  }
  return x > y ? 1 : 0;
}

module.exports = {
  startApi,
  assertProblem,
  assertInvalid,
  assertFields,
  assertRepresentation,
  compare,
{% if auth.kind != "none" %}
  TEST_SECRET,
{% endif %}
{% if auth.kind == "bearer_jwt" %}
  signJwt,
  nowSeconds,
{% endif %}
};
