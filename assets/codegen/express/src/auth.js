'use strict';

const crypto = require('node:crypto');
const { HttpError } = require('./problem');

{% if auth.kind == "api_key" %}
const HEADER = '{{ auth.header }}';
const ENV_VAR = '{{ auth.env_var }}';

// Hashing first gives both sides the same length, which timingSafeEqual requires,
// without revealing the expected key's length through timing.
const digest = (value) => crypto.createHash('sha256').update(value, 'utf8').digest();

/** Requires the `{{ auth.header }}` header to equal the ${{ auth.env_var }} value. */
function authenticate(env) {
  const expected = env[ENV_VAR];
  if (!expected) {
    console.warn(`${ENV_VAR} is not set: every request except /health will be refused`);
  }
  return (req, res, next) => {
    const given = req.get(HEADER);
    if (!expected) {
      throw new HttpError(401, `The server has no API key configured (${ENV_VAR} is unset).`);
    }
    if (!given) {
      throw new HttpError(401, `Missing API key: send it in the ${HEADER} header.`);
    }
    if (!crypto.timingSafeEqual(digest(given), digest(expected))) {
      throw new HttpError(401, `The API key in the ${HEADER} header is not valid.`);
    }
    next();
  };
}
{% else %}
const ENV_VAR = '{{ auth.env_var }}';
const CHALLENGE = { 'WWW-Authenticate': 'Bearer' };
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const unauthorized = (detail) => new HttpError(401, detail, { headers: CHALLENGE });

function decodeSegment(segment) {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Verifies an HS256 JSON Web Token: its signature against `secret` (constant-time), and
 * `exp` / `nbf` against `nowSeconds` when present. Returns the claims or throws a 401.
 */
function verifyJwt(token, secret, nowSeconds = Math.floor(Date.now() / 1000)) {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
    throw unauthorized('The bearer token is not a JSON Web Token.');
  }
  const [headerPart, payloadPart, signaturePart] = parts;
  const header = decodeSegment(headerPart);
  if (!header || header.alg !== 'HS256') {
    throw unauthorized('The bearer token must be signed with HS256.');
  }
  const expected = crypto.createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    throw unauthorized('The bearer token signature is not valid.');
  }
  const claims = decodeSegment(payloadPart);
  if (!claims) {
    throw unauthorized('The bearer token payload is not a JSON object.');
  }
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp <= nowSeconds)) {
    throw unauthorized('The bearer token has expired.');
  }
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > nowSeconds)) {
    throw unauthorized('The bearer token is not valid yet.');
  }
  return claims;
}

/** Requires `Authorization: Bearer <JWT>` signed with the ${{ auth.env_var }} secret. */
function authenticate(env) {
  const secret = env[ENV_VAR];
  if (!secret) {
    console.warn(`${ENV_VAR} is not set: every request except /health will be refused`);
  }
  return (req, res, next) => {
    if (!secret) {
      throw unauthorized(`The server has no JWT secret configured (${ENV_VAR} is unset).`);
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('Authorization') || '');
    if (!match) {
      throw unauthorized('Missing bearer token: send Authorization: Bearer <JWT>.');
    }
    req.user = verifyJwt(match[1], secret);
    next();
  };
}
{% endif %}

module.exports = { authenticate{% if auth.kind == "bearer_jwt" %}, verifyJwt{% endif %} };
