'use strict';

// {{ r.path }}: {{ r.summary }}

const express = require('express');
const { {{ r.var }}: resource } = require('../resources');
const { Repository } = require('../repository');
const { methodNotAllowed } = require('../problem');
const { parseId{% if r.ops.list %}, parseListQuery{% endif %}{% if r.ops.create or r.ops.replace or r.ops.patch %}, validateBody{% endif %} } = require('../validation');

function {{ r.router_fn }}(db) {
  const router = express.Router();
  const {{ r.repo_var }} = new Repository(db, resource);
{% if r.ops.list %}

  router.get('/', (req, res) => {
    res.json({{ r.repo_var }}.list(parseListQuery(resource, req.query)));
  });
{% endif %}
{% if r.ops.create %}

  router.post('/', (req, res) => {
    const {{ r.item_var }} = {{ r.repo_var }}.create(validateBody(resource.fields, req.body, 'create'));
    res.status(201).location(`{{ r.path }}/${ {{- r.item_var }}.id}`).json({{ r.item_var }});
  });
{% endif %}
{% if r.ops.get %}

  router.get('/:id', (req, res) => {
    res.json({{ r.repo_var }}.get(parseId(req.params.id)));
  });
{% endif %}
{% if r.ops.replace %}

  router.put('/:id', (req, res) => {
    const id = parseId(req.params.id);
    {{ r.repo_var }}.get(id);
    res.json({{ r.repo_var }}.update(id, validateBody(resource.fields, req.body, 'replace')));
  });
{% endif %}
{% if r.ops.patch %}

  router.patch('/:id', (req, res) => {
    const id = parseId(req.params.id);
    {{ r.repo_var }}.get(id);
    res.json({{ r.repo_var }}.update(id, validateBody(resource.fields, req.body, 'patch')));
  });
{% endif %}
{% if r.ops.delete %}

  router.delete('/:id', (req, res) => {
    {{ r.repo_var }}.delete(parseId(req.params.id));
    res.status(204).end();
  });
{% endif %}

{% if r.ops.list or r.ops.create %}
  router.all('/', methodNotAllowed([{{ [r.ops.list and "'GET'", r.ops.create and "'POST'"] | select | join(", ") }}]));
{% endif %}
{% if r.ops.get or r.ops.replace or r.ops.patch or r.ops.delete %}
  router.all('/:id', methodNotAllowed([{{ [r.ops.get and "'GET'", r.ops.replace and "'PUT'", r.ops.patch and "'PATCH'", r.ops.delete and "'DELETE'"] | select | join(", ") }}]));
{% endif %}

  return router;
}

module.exports = { {{ r.router_fn }} };
