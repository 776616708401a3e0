'use strict';

// RFC 9457 problem details: every error this API returns has this shape.

const TITLES = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

/** An error that becomes a problem+json response with its status. */
class HttpError extends Error {
  constructor(status, detail, { errors, headers } = {}) {
    super(detail);
    this.name = 'HttpError';
    this.status = status;
    this.errors = errors;
    this.headers = headers;
  }
}

/** A 422 with one `{loc, msg}` entry per problem found. */
class ValidationError extends HttpError {
  constructor(errors, detail = 'The request is not valid; see errors for each problem.') {
    super(422, detail, { errors });
    this.name = 'ValidationError';
  }
}

function sendProblem(res, status, detail, { errors, headers } = {}) {
  const body = {
    type: 'about:blank',
    title: TITLES[status] || 'Error',
    status,
    detail,
  };
  if (errors && errors.length > 0) {
    body.errors = errors;
  }
  if (headers) {
    res.set(headers);
  }
  // res.end rather than res.send: the media type must stay exactly
  // application/problem+json, without a charset parameter appended.
  res.status(status).set('Content-Type', 'application/problem+json');
  res.end(JSON.stringify(body));
}

/**
 * The handler for every other method on a path the API serves: 405 with the path's
 * methods in `Allow` (OPTIONS and TRACE included: the contract declares neither).
 */
function methodNotAllowed(methods) {
  const allow = methods.join(', ');
  return (req, res) => {
    sendProblem(res, 405, `${req.method} is not allowed on ${req.path}; use ${allow}.`, {
      headers: { Allow: allow },
    });
  };
}

module.exports = { HttpError, ValidationError, methodNotAllowed, sendProblem };
