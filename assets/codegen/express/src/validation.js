'use strict';

const { HttpError, ValidationError } = require('./problem');

const FORMATS = {
  email: {
    test: (value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value),
    msg: 'must be an email address',
  },
  url: {
    test: (value) => /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(value) && canParseUrl(value),
    msg: 'must be an absolute URL',
  },
  phone: {
    test: (value) => /^\+?[0-9 ()-]{6,20}$/.test(value),
    msg: 'must be a phone number (digits, spaces, parentheses, dashes, optional leading +)',
  },
  uuid: {
    test: (value) => /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value),
    msg: 'must be a UUID',
  },
  date: {
    test: isDate,
    msg: 'must be a date (YYYY-MM-DD)',
  },
  date_time: {
    test: isDateTime,
    msg: 'must be an RFC 3339 date-time (e.g. 2024-01-31T09:30:00Z)',
  },
  time: {
    test: (value) => /^\d{2}:\d{2}(:\d{2})?$/.test(value) && isClockTime(value),
    msg: 'must be a time of day (HH:MM or HH:MM:SS)',
  },
};

const STRING_TYPES = new Set([
  'string', 'text', 'email', 'url', 'phone', 'uuid', 'date', 'date_time', 'time', 'enum',
]);

function canParseUrl(value) {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function isDate(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) {
    return false;
  }
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isDateTime(value) {
  const match = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(value);
  return Boolean(match) && isDate(match[1]) && Number(match[2]) < 24 && Number(match[3]) < 60
    && Number(match[4]) < 61;
}

function isClockTime(value) {
  const [hours, minutes, seconds = '0'] = value.split(':').map(Number);
  return hours < 24 && minutes < 60 && Number(seconds) < 60;
}

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const patternCache = new Map();

/**
 * A design's pattern as JSON Schema reads it (and the spec says): it must match
 * somewhere in the value; patterns that constrain the whole value anchor themselves.
 */
function patternRegex(pattern) {
  if (!patternCache.has(pattern)) {
    let regex;
    try {
      regex = new RegExp(pattern, 'u');
    } catch {
      regex = new RegExp(pattern);
    }
    patternCache.set(pattern, regex);
  }
  return patternCache.get(pattern);
}

/** The message for a value that does not fit `field`, or null when it fits. */
function checkValue(field, value) {
  if (STRING_TYPES.has(field.type)) {
    if (typeof value !== 'string') {
      return 'must be a string';
    }
  } else if (field.type === 'integer') {
    if (!Number.isSafeInteger(value)) {
      return 'must be an integer';
    }
  } else if (field.type === 'number' || field.type === 'decimal') {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return 'must be a number';
    }
  } else if (field.type === 'boolean') {
    if (typeof value !== 'boolean') {
      return 'must be true or false';
    }
  } else if (field.type === 'json') {
    if (!isPlainObject(value)) {
      return 'must be a JSON object';
    }
  }
  if (field.type === 'enum' && !field.enum.includes(value)) {
    return `must be one of: ${field.enum.join(', ')}`;
  }
  const format = FORMATS[field.type];
  if (format && !format.test(value)) {
    return format.msg;
  }
  if (typeof value === 'number') {
    if (field.min !== undefined && value < field.min) {
      return `must be at least ${field.min}`;
    }
    if (field.max !== undefined && value > field.max) {
      return `must be at most ${field.max}`;
    }
  }
  if (typeof value === 'string') {
    // Lengths count characters, not UTF-16 code units.
    const length = [...value].length;
    if (field.minLength !== undefined && length < field.minLength) {
      return `must be at least ${field.minLength} characters long`;
    }
    if (field.maxLength !== undefined && length > field.maxLength) {
      return `must be at most ${field.maxLength} characters long`;
    }
    if (field.pattern !== undefined && !patternRegex(field.pattern).test(value)) {
      return `must match the pattern ${field.pattern}`;
    }
  }
  return null;
}

/**
 * Validates a request body against `fields`.
 *
 * mode `create` and `replace`: required fields must be present, omitted optional fields
 * take their default (or null). mode `patch`: only the given fields are checked and
 * returned. Unknown properties are ignored. Throws a ValidationError listing every
 * problem at once.
 */
function validateBody(fields, body, mode) {
  if (!isPlainObject(body)) {
    throw new ValidationError(
      [{ loc: ['body'], msg: 'must be a JSON object' }],
      'The request body must be a JSON object (send Content-Type: application/json).',
    );
  }
  const errors = [];
  const values = {};
  for (const field of fields) {
    const given = Object.hasOwn(body, field.name) ? body[field.name] : undefined;
    if (given === undefined) {
      if (mode === 'patch') {
        continue;
      }
      if (field.required) {
        errors.push({ loc: ['body', field.name], msg: 'field required' });
      } else {
        values[field.name] = field.default === undefined ? null : field.default;
      }
      continue;
    }
    if (given === null) {
      if (field.required) {
        errors.push({ loc: ['body', field.name], msg: 'must not be null' });
      } else {
        values[field.name] = null;
      }
      continue;
    }
    const msg = checkValue(field, given);
    if (msg) {
      errors.push({ loc: ['body', field.name], msg });
    } else {
      values[field.name] = given;
    }
  }
  if (errors.length > 0) {
    throw new ValidationError(errors);
  }
  return values;
}

/**
 * An integer written in a path or query, or undefined: integers in this API lie within
 * ±(2^53 - 1), the range a JavaScript number holds exactly.
 */
function parseInteger(raw) {
  if (!/^-?\d{1,16}$/.test(raw)) {
    return undefined;
  }
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** An id path parameter such as `{id}`: 1 to 2^53 - 1. */
function parseId(raw, name = 'id') {
  const value = parseInteger(raw);
  if (value === undefined || value < 1) {
    throw new ValidationError([
      { loc: ['path', name], msg: `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}` },
    ]);
  }
  return value;
}

/** A query parameter value for an exact-match filter on `field`, or an error message. */
function parseFilterValue(field, raw) {
  if (field.type === 'integer') {
    const value = parseInteger(raw);
    if (value === undefined) {
      return { msg: 'must be an integer' };
    }
    const msg = checkValue(field, value);
    return msg ? { msg } : { value };
  }
  if (field.type === 'number' || field.type === 'decimal') {
    const value = Number(raw);
    return raw.trim() !== '' && Number.isFinite(value) ? { value } : { msg: 'must be a number' };
  }
  if (field.type === 'boolean') {
    if (raw === 'true' || raw === 'false') {
      return { value: raw === 'true' };
    }
    return { msg: 'must be true or false' };
  }
  const msg = checkValue(field, raw);
  return msg ? { msg } : { value: raw };
}

/**
 * Reads `limit`, `offset`, `sort`, `q` and the filters of a list request. Every
 * parameter may be given at most once.
 */
function parseListQuery(resource, query) {
  const list = resource.list;
  const errors = [];
  const single = (name) => {
    const value = query[name];
    if (Array.isArray(value) || (value !== undefined && typeof value !== 'string')) {
      errors.push({ loc: ['query', name], msg: 'must be given once' });
      return undefined;
    }
    return value;
  };
  const integer = (name, fallback, min, max) => {
    const raw = single(name);
    if (raw === undefined) {
      return fallback;
    }
    const value = parseInteger(raw);
    if (value === undefined) {
      errors.push({ loc: ['query', name], msg: 'must be an integer' });
      return fallback;
    }
    if (value < min || value > max) {
      errors.push({ loc: ['query', name], msg: `must be between ${min} and ${max}` });
    }
    return value;
  };
  const limit = integer('limit', list.defaultPageSize, 1, list.maxPageSize);
  const offset = integer('offset', 0, 0, Number.MAX_SAFE_INTEGER);

  const sortKeys = ['id', ...list.sort];
  const sortRaw = single('sort') ?? 'id';
  const descending = sortRaw.startsWith('-');
  const sortField = descending ? sortRaw.slice(1) : sortRaw;
  if (!sortKeys.includes(sortField)) {
    const allowed = sortKeys.flatMap((key) => [key, `-${key}`]).join(', ');
    errors.push({ loc: ['query', 'sort'], msg: `must be one of: ${allowed}` });
  }

  let search;
  if (list.search.length > 0) {
    search = single('q');
  }

  const filters = [];
  for (const name of list.filters) {
    const raw = single(name);
    if (raw === undefined) {
      continue;
    }
    const field = resource.fields.find((candidate) => candidate.name === name);
    const parsed = parseFilterValue(field, raw);
    if (parsed.msg) {
      errors.push({ loc: ['query', name], msg: parsed.msg });
    } else {
      filters.push({ name, value: parsed.value });
    }
  }

  if (errors.length > 0) {
    throw new ValidationError(errors, 'The query parameters are not valid; see errors for each problem.');
  }
  return { limit, offset, sort: { field: sortField, descending }, search, filters };
}

module.exports = { validateBody, parseId, parseListQuery, checkValue, HttpError };
