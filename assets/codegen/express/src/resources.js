'use strict';

// The resources of {{ title_line }} as the design describes them. `fields` holds every
// writable property, foreign keys included; validation, persistence and listing are
// all driven by these definitions.
{% for r in resources %}

{{ r.definition }}
{% endfor %}

module.exports = { {% for r in resources %}{{ r.var }}{% if not loop.last %}, {% endif %}{% endfor %} };
