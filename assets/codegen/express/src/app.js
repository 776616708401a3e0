'use strict';

const express = require('express');
const { Database } = require('./database');
const { HttpError, methodNotAllowed, sendProblem } = require('./problem');
{% if auth.kind != "none" %}
const { authenticate } = require('./auth');
{% endif %}
{% if actions %}
const { actionsRouter } = require('./actions');
{% endif %}
{% for r in resources %}
const { {{ r.router_fn }} } = require('./routes/{{ r.plural }}');
{% endfor %}

/**
 * Builds the {{ title_line }} application.
 *
 * Options: `dbPath`, the SQLite file (default: APIFORGE_DB, else app.db), and `env`,
 * where secrets are read from (default: process.env).
 */
async function createApp({ dbPath = process.env.APIFORGE_DB || 'app.db', env = process.env } = {}) {
  const db = await Database.open(dbPath);
  const app = express();
  app.disable('x-powered-by');
  app.locals.db = db;

  app.get('/health', (req, res) => {
    res.json({ status: 'ok' });
  });
  app.all('/health', methodNotAllowed(['GET']));
{% if auth.kind != "none" %}
  // Every route but /health needs credentials; checked before the body is even parsed.
  app.use(authenticate(env));
{% endif %}
  app.use(express.json({ type: ['application/json', 'application/*+json'], limit: '1mb' }));
{% if actions %}
  // Custom actions first, so a path like /orders/summary wins over /orders/:id.
  app.use(actionsRouter(db));
{% endif %}
{% for r in resources %}
  app.use('/{{ r.plural }}', {{ r.router_fn }}(db));
{% endfor %}
  app.use((req, res) => {
    sendProblem(res, 404, `No route matches ${req.method} ${req.path}.`);
  });
  app.use(handleError);
  return app;
}

// Express recognises error handlers by their four parameters.
// eslint-disable-next-line no-unused-vars
function handleError(error, req, res, next) {
  if (res.headersSent) {
    next(error);
    return;
  }
  if (error instanceof HttpError) {
    sendProblem(res, error.status, error.message, { errors: error.errors, headers: error.headers });
    return;
  }
  if (error.type === 'entity.parse.failed') {
    sendProblem(res, 422, 'The request body is not valid JSON.', {
      errors: [{ loc: ['body'], msg: error.message }],
    });
    return;
  }
  if (Number.isInteger(error.status) && error.status >= 400 && error.status < 500) {
    // Other body-parser failures: too large, unsupported charset or encoding.
    sendProblem(res, error.status, error.message);
    return;
  }
  console.error(error);
  sendProblem(res, 500, 'The server failed to handle this request; see its log.');
}

module.exports = { createApp };
