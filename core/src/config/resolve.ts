import path from 'node:path';
import { LISTEN_PATTERN } from './schema.js';
import type { ConfigProblem } from './validate.js';
import type { DatabaseSettings, WharfConfig } from './types.js';

/**
 * Checks the schema cannot express, and the values derived from others: absolute paths, the
 * default SQLite file, the public URL from the listen address.
 */

type Json = Record<string, unknown>;

/** Splits `host:port` / `[v6]:port`. An empty host means all interfaces. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  if (!m) throw new TypeError(`invalid listen address "${listen}"`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

/** The URL a local client would use for a listen address (wildcard hosts become loopback). */
export function urlForListen(listen: string): string {
  const { host, port } = parseListen(listen);
  let h = host;
  if (h === '' || h === '0.0.0.0') h = '127.0.0.1';
  else if (h === '::') h = '::1';
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

export function semanticProblems(config: Json): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const db = (config.database ?? {}) as Json;
  if (db.client === 'postgres' || db.client === 'mysql') {
    if (db.connection === undefined) problems.push({ path: 'database.connection', message: `is required when client is ${db.client}` });
    if (db.filename !== undefined) problems.push({ path: 'database.filename', message: 'only applies to client sqlite' });
  } else if (db.connection !== undefined) {
    problems.push({ path: 'database.connection', message: 'only applies to clients postgres and mysql' });
  }
  const pool = db.pool as { min?: number; max?: number } | undefined;
  if (pool?.min !== undefined && pool.max !== undefined && pool.min > pool.max) {
    problems.push({ path: 'database.pool.min', message: 'must not be greater than database.pool.max' });
  }
  const jobs = (config.jobs ?? {}) as Json;
  const redis = (jobs.redis ?? {}) as Json;
  if (jobs.backend === 'redis' && redis.url === undefined) problems.push({ path: 'jobs.redis.url', message: 'is required when backend is redis' });
  if (typeof redis.url === 'string' && !/^rediss?:\/\//.test(redis.url)) problems.push({ path: 'jobs.redis.url', message: 'must be a redis:// or rediss:// URL' });
  const server = (config.server ?? {}) as Json;
  // A listen value that fails the pattern was already reported by the schema.
  const port = typeof server.listen === 'string' && new RegExp(LISTEN_PATTERN).test(server.listen) ? parseListen(server.listen).port : 0;
  if (port > 65535) problems.push({ path: 'server.listen', message: 'port must be at most 65535' });
  if (typeof server.publicUrl === 'string' && !/^https?:\/\//.test(server.publicUrl)) {
    problems.push({ path: 'server.publicUrl', message: 'must be an http or https URL' });
  }
  return problems;
}

/** Turns the validated object into the effective config (not yet frozen). */
export function resolveConfig(validated: Json, cwd: string): WharfConfig {
  const dataDir = path.resolve(cwd, validated.dataDir as string);
  const server = validated.server as Json;
  const db = validated.database as Json;
  let database: DatabaseSettings;
  if (db.client === 'postgres' || db.client === 'mysql') {
    database = {
      client: db.client,
      connection: db.connection as string | Record<string, unknown>,
      ...(db.pool === undefined ? {} : { pool: db.pool as { min?: number; max?: number } }),
      migrate: db.migrate as boolean,
    };
  } else {
    const filename = db.filename as string | undefined;
    database = {
      client: 'sqlite',
      filename: filename === undefined ? path.join(dataDir, 'wharf.db') : filename === ':memory:' ? filename : path.resolve(cwd, filename),
      migrate: db.migrate as boolean,
    };
  }
  const listen = server.listen as string;
  const publicUrl = typeof server.publicUrl === 'string' ? server.publicUrl.replace(/\/+$/, '') : urlForListen(listen);
  return {
    ...(validated as unknown as WharfConfig),
    dataDir,
    server: { ...(server as unknown as WharfConfig['server']), listen, publicUrl },
    database,
  };
}

export function deepFreeze<T>(value: T): T {
  // Config is plain JSON (no cycles); Buffers and the like never appear in it.
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value as object)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
