'use strict';

// Valid example bodies for every resource, and helpers that create records together
// with the parents they need.

const assert = require('node:assert/strict');

/** Distinct valid bodies per resource, foreign keys left out. */
const SAMPLES = {
{% for r in resources %}
  {{ r.name }}: {{ r.samples }},
{% endfor %}
};

/** Required belongs-to relations: a record cannot be created without these parents. */
const PARENTS = {
{% for r in resources %}
  {{ r.name }}: [{% for p in r.required_parents %}{ field: '{{ p.field }}', target: '{{ p.target }}' }{% if not loop.last %}, {% endif %}{% endfor %}],
{% endfor %}
};

const PATHS = {
{% for r in resources %}
  {{ r.name }}: '{{ r.path }}',
{% endfor %}
};

/**
 * The parents created for each test's API, by resource and sample index. A record
 * reached along two paths (in a diamond A→B→D, A→C→D) is created once, so its unique
 * fields never collide; keyed by the test's own API (and so its own database), no two
 * tests share a row.
 */
const MADE_PARENTS = new WeakMap();

/** Sample `index` of `name` as a parent: created at most once per test. */
async function parent(api, name, index) {
  if (!MADE_PARENTS.has(api)) {
    MADE_PARENTS.set(api, new Map());
  }
  const made = MADE_PARENTS.get(api);
  const key = `${name}#${index}`;
  if (!made.has(key)) {
    made.set(key, await create(api, name, index));
  }
  return made.get(key);
}

/** Sample `index` of `name`, creating the parents it needs unless `overrides` names them. */
async function buildBody(api, name, index = 0, overrides = {}) {
  const samples = SAMPLES[name];
  const body = { ...samples[index % samples.length] };
  for (const required of PARENTS[name]) {
    if (!Object.hasOwn(overrides, required.field)) {
      body[required.field] = (await parent(api, required.target, index)).id;
    }
  }
  return { ...body, ...overrides };
}

/** Creates sample `index` of `name` through the API and returns its representation. */
async function create(api, name, index = 0, overrides = {}) {
  const response = await api.post(PATHS[name], await buildBody(api, name, index, overrides));
  assert.equal(response.status, 201, `creating a ${name}: ${response.text}`);
  return response.body;
}

module.exports = { SAMPLES, buildBody, create };
