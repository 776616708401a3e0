'use strict';

// SQLite through sql.js (SQLite compiled to WebAssembly): no native build step, so the
// same node_modules works everywhere. sql.js keeps the database in memory; every
// committed change is written back to the file atomically (temp file + rename).

const fs = require('node:fs');
const path = require('node:path');
const initSqlJs = require('sql.js');

const SCHEMA = [
{% for statement in schema %}
  `{{ statement }}`,
{% endfor %}
];

class Database {
  /** Opens (or creates) the database at `file`; `:memory:` keeps nothing on disk. */
  static async open(file) {
    const SQL = await initSqlJs();
    const persistent = file !== ':memory:';
    const data = persistent && fs.existsSync(file) ? fs.readFileSync(file) : undefined;
    const database = new Database(new SQL.Database(data), persistent ? path.resolve(file) : null);
    database.transaction(() => {
      for (const statement of SCHEMA) {
        database.run(statement);
      }
    });
    return database;
  }

  constructor(sqlite, file) {
    this.sqlite = sqlite;
    this.file = file;
    this.sqlite.run('PRAGMA foreign_keys = ON');
  }

  run(sql, params = []) {
    this.sqlite.run(sql, params);
    return this.sqlite.getRowsModified();
  }

  all(sql, params = []) {
    const statement = this.sqlite.prepare(sql);
    try {
      statement.bind(params);
      const rows = [];
      while (statement.step()) {
        rows.push(statement.getAsObject());
      }
      return rows;
    } finally {
      statement.free();
    }
  }

  get(sql, params = []) {
    return this.all(sql, params)[0];
  }

  insert(sql, params = []) {
    this.sqlite.run(sql, params);
    return this.get('SELECT last_insert_rowid() AS id').id;
  }

  /** Runs `work` in one transaction and persists the result; rolls back on error. */
  transaction(work) {
    this.sqlite.run('BEGIN');
    let result;
    try {
      result = work();
      this.sqlite.run('COMMIT');
    } catch (error) {
      this.sqlite.run('ROLLBACK');
      throw error;
    }
    this.persist();
    return result;
  }

  persist() {
    if (!this.file) {
      return;
    }
    const data = this.sqlite.export();
    // export() reopens the database, which resets per-connection settings.
    this.sqlite.run('PRAGMA foreign_keys = ON');
    const temp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, this.file);
  }

  close() {
    this.sqlite.close();
  }
}

module.exports = { Database };
