/**
 * The embedded database: one node:sqlite file (no native build), migrated on
 * open. Repositories share it; each prepares its own statements once.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { MIGRATIONS } from './migrations.ts';

export type Row = Record<string, SQLInputValue>;

export const str = (v: SQLInputValue | undefined): string =>
  typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'bigint'
      ? v.toString()
      : v instanceof Uint8Array
        ? Buffer.from(v).toString('utf8')
        : '';
export const strOrNull = (v: SQLInputValue | undefined): string | null =>
  v === null || v === undefined ? null : str(v);
export const numOrNull = (v: SQLInputValue | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

export class SqliteDb {
  readonly #db: DatabaseSync;
  #closed = false;
  /** Prepared once, reused: the SQL texts are a fixed set. */
  readonly #statements = new Map<string, StatementSync>();

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, 'onair.db');
    // The database holds every stream key: owner-only. SQLite gives its -wal and -shm files the
    // database file's mode; files of an older install are fixed here.
    closeSync(openSync(file, 'a', 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    this.#db = new DatabaseSync(file);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    this.#migrate();
  }

  #migrate(): void {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = new Set(this.all('SELECT version FROM schema_migrations').map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.atomically(() => {
        this.#db.exec(m.sql);
        this.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
      });
    }
  }

  #stmt(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  get(sql: string, params: readonly SQLInputValue[] = []): Row | undefined {
    return this.#stmt(sql).get(...params);
  }

  all(sql: string, params: readonly SQLInputValue[] = []): Row[] {
    return this.#stmt(sql).all(...params);
  }

  /** Runs a write; returns the new row's id (for INSERTs into tables with one). */
  run(sql: string, params: readonly SQLInputValue[] = []): number {
    return Number(this.#stmt(sql).run(...params).lastInsertRowid);
  }

  count(sql: string, params: readonly SQLInputValue[] = []): number {
    return Number(this.get(sql, params)?.n ?? 0);
  }

  /** One page of a table's rows (`where` on `params`, in `order`) and how many rows there are in all. */
  page<T>(
    q: { table: string; where?: string; params?: readonly SQLInputValue[]; order: string },
    limit: number,
    offset: number,
    map: (r: Row) => T,
  ): { items: T[]; total: number } {
    const from = `FROM ${q.table}${q.where ? ` WHERE ${q.where}` : ''}`;
    const params = q.params ?? [];
    return {
      items: this.all(`SELECT * ${from} ORDER BY ${q.order} LIMIT ? OFFSET ?`, [
        ...params,
        limit,
        offset,
      ]).map(map),
      total: this.count(`SELECT COUNT(*) AS n ${from}`, params),
    };
  }

  /** Runs `fn` in one transaction. `fn` is synchronous: nothing else can write in between. */
  atomically<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  schemaVersion(): number {
    return Number(this.get('SELECT MAX(version) AS v FROM schema_migrations')?.v ?? 0);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}

/** A repository over the embedded database. */
export abstract class SqliteTable {
  protected readonly db: SqliteDb;

  constructor(db: SqliteDb) {
    this.db = db;
  }
}
