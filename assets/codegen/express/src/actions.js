'use strict';

// Custom actions beyond CRUD.

const express = require('express');
const resources = require('./resources');
const { Repository } = require('./repository');
const { HttpError, methodNotAllowed } = require('./problem');
const { parseId, validateBody } = require('./validation');
{% for a in actions %}
{% if a.behavior == "custom" %}

/**
 * {{ a.method }} {{ a.path }}{% if a.summary %}: {{ a.summary }}{% endif %}

 *
 * Hand-written handler from the design. It receives the request and response, the
 * validated `input`, the `db` and one Repository per resource in `repositories`; it
 * either sends a response itself or returns a value to send as JSON (undefined: 204).
 */
// eslint-disable-next-line no-unused-vars
async function {{ a.fn_name }}({ req, res, input, db, repositories }) {
{{ a.custom_body }}
}
{% endif %}
{% endfor %}

function actionsRouter(db) {
  const router = express.Router();
  const repositories = Object.fromEntries(
    Object.values(resources).map((resource) => [resource.plural, new Repository(db, resource)]),
  );
{% for a in actions %}

  // {{ a.name }}: {{ a.method }} {{ a.path }}{% if a.summary %} ({{ a.summary }}){% endif %}

{% if a.behavior == "set_field" %}
  router.{{ a.method_lower }}('{{ a.express_path }}', (req, res) => {
    const repository = repositories.{{ a.resource_var }};
    const id = parseId(req.params.id);
{% if a.from %}
    const current = repository.get(id);
{% else %}
    repository.get(id);
{% endif %}
{% if a.input %}
    validateBody({{ a.input }}, req.body ?? {}, 'create');
{% endif %}
{% if a.from %}
    const allowed = {{ a.from }};
    if (!allowed.includes(current.{{ a.field }})) {
      throw new HttpError(409, `Cannot {{ a.name | replace("_", " ") }}: {{ a.field }} is ${JSON.stringify(current.{{ a.field }})}, it must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}.`);
    }
{% endif %}
{% if a.output_empty %}
    repository.update(id, { {{ a.field }}: {{ a.value }} });
    res.status(204).end();
{% else %}
    res.json(repository.update(id, { {{ a.field }}: {{ a.value }} }));
{% endif %}
  });
{% elif a.behavior == "custom" %}
  router.{{ a.method_lower }}('{{ a.express_path }}', async (req, res) => {
{% if a.input %}
    const input = validateBody({{ a.input }}, req.body ?? {}, 'create');
{% else %}
    const input = {};
{% endif %}
    const result = await {{ a.fn_name }}({ req, res, input, db, repositories });
    if (!res.headersSent) {
      if (result === undefined) {
        res.status(204).end();
      } else {
        res.json(result);
      }
    }
  });
{% else %}
  router.{{ a.method_lower }}('{{ a.express_path }}', () => {
    throw new HttpError(501, '{{ a.name }} has no handler yet; write one in src/actions.js.');
  });
{% endif %}
{% endfor %}
{% for p in action_paths %}
  router.all('{{ p.express_path }}', methodNotAllowed([{% for m in p.methods %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %}]));
{% endfor %}

  return router;
}

module.exports = { actionsRouter };
