'use strict';

// Generic persistence for one resource, driven by its definition in resources.js.

const { HttpError } = require('./problem');

const quote = (identifier) => `"${identifier}"`;

/** JavaScript value → SQLite value. */
function toColumn(field, value) {
  if (value === null || value === undefined) {
    return null;
  }
  if (field.type === 'boolean') {
    return value ? 1 : 0;
  }
  if (field.type === 'json') {
    return JSON.stringify(value);
  }
  return value;
}

/** SQLite value → JavaScript value. */
function fromColumn(field, value) {
  if (value === null || value === undefined) {
    return null;
  }
  if (field.type === 'boolean') {
    return value === 1;
  }
  if (field.type === 'json') {
    return JSON.parse(value);
  }
  return value;
}

class Repository {
  constructor(db, resource) {
    this.db = db;
    this.resource = resource;
    this.table = quote(resource.plural);
    this.columns = ['id', ...resource.fields.map((field) => field.name), 'created_at', 'updated_at'];
    this.select = `SELECT ${this.columns.map(quote).join(', ')} FROM ${this.table}`;
  }

  represent(row) {
    const item = { id: row.id };
    for (const field of this.resource.fields) {
      item[field.name] = fromColumn(field, row[field.name]);
    }
    item.created_at = row.created_at;
    item.updated_at = row.updated_at;
    return item;
  }

  list({ limit, offset, sort, search, filters }) {
    const clauses = [];
    const params = [];
    for (const filter of filters) {
      const field = this.resource.fields.find((candidate) => candidate.name === filter.name);
      clauses.push(`${quote(filter.name)} = ?`);
      params.push(toColumn(field, filter.value));
    }
    if (search) {
      const matches = this.resource.list.search.map((name) => `instr(lower(${quote(name)}), lower(?)) > 0`);
      clauses.push(`(${matches.join(' OR ')})`);
      params.push(...this.resource.list.search.map(() => search));
    }
    const where = clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '';
    const direction = sort.descending ? 'DESC' : 'ASC';
    // id breaks ties so pages never overlap or skip rows.
    const order = sort.field === 'id'
      ? ` ORDER BY "id" ${direction}`
      : ` ORDER BY ${quote(sort.field)} ${direction}, "id" ${direction}`;
    const { total } = this.db.get(`SELECT COUNT(*) AS total FROM ${this.table}${where}`, params);
    const rows = this.db.all(`${this.select}${where}${order} LIMIT ? OFFSET ?`, [...params, limit, offset]);
    return { items: rows.map((row) => this.represent(row)), total, limit, offset };
  }

  find(id) {
    const row = this.db.get(`${this.select} WHERE "id" = ?`, [id]);
    return row ? this.represent(row) : null;
  }

  get(id) {
    const item = this.find(id);
    if (!item) {
      throw new HttpError(404, `No ${this.resource.name} with id ${id}.`);
    }
    return item;
  }

  create(values) {
    const now = new Date().toISOString();
    const names = [...this.resource.fields.map((field) => field.name), 'created_at', 'updated_at'];
    const params = [
      ...this.resource.fields.map((field) => toColumn(field, values[field.name])),
      now,
      now,
    ];
    const sql = `INSERT INTO ${this.table} (${names.map(quote).join(', ')}) `
      + `VALUES (${names.map(() => '?').join(', ')})`;
    const id = this.write(() => {
      this.checkParents(values);
      return this.db.insert(sql, params);
    });
    return this.get(id);
  }

  /** Sets the given fields of an existing row; `values` may hold a subset of fields. */
  update(id, values) {
    const fields = this.resource.fields.filter((field) => Object.hasOwn(values, field.name));
    const assignments = [...fields.map((field) => `${quote(field.name)} = ?`), '"updated_at" = ?'];
    const params = [
      ...fields.map((field) => toColumn(field, values[field.name])),
      new Date().toISOString(),
      id,
    ];
    const changed = this.write(() => {
      this.checkParents(values);
      return this.db.run(`UPDATE ${this.table} SET ${assignments.join(', ')} WHERE "id" = ?`, params);
    });
    if (changed === 0) {
      throw new HttpError(404, `No ${this.resource.name} with id ${id}.`);
    }
    return this.get(id);
  }

  delete(id) {
    const removed = this.write(() => this.db.run(`DELETE FROM ${this.table} WHERE "id" = ?`, [id]));
    if (removed === 0) {
      throw new HttpError(404, `No ${this.resource.name} with id ${id}.`);
    }
  }

  /** A foreign key must name an existing parent: 422 with the field, not a bare FK error. */
  checkParents(values) {
    const errors = [];
    for (const relation of this.resource.relations) {
      const parentId = values[relation.field];
      if (parentId === null || parentId === undefined) {
        continue;
      }
      const parent = this.db.get(`SELECT 1 AS found FROM ${quote(relation.targetPlural)} WHERE "id" = ?`, [parentId]);
      if (!parent) {
        errors.push({ loc: ['body', relation.field], msg: `no ${relation.target} with id ${parentId}` });
      }
    }
    if (errors.length > 0) {
      throw new HttpError(409, 'A referenced record does not exist; see errors.', { errors });
    }
  }

  /** Runs a change in a transaction and turns constraint failures into HTTP errors. */
  write(change) {
    try {
      return this.db.transaction(change);
    } catch (error) {
      const message = String(error && error.message);
      const unique = /UNIQUE constraint failed: ([^,]+)/.exec(message);
      if (unique) {
        const column = unique[1].split('.').pop();
        throw new HttpError(409, `Another ${this.resource.name} already has this ${column}.`, {
          errors: [{ loc: ['body', column], msg: 'must be unique' }],
        });
      }
      if (message.includes('FOREIGN KEY constraint failed')) {
        throw new HttpError(409, `This ${this.resource.name} is still referenced by other records; delete or reassign them first.`);
      }
      throw error;
    }
  }
}

module.exports = { Repository };
