/**
 * Where the Synapse stand-in keeps its users and access tokens: the database homeserver.yaml names.
 * With `psycopg2` it is that PostgreSQL (node-postgres), checked at start as Synapse's
 * storage/engines/postgres.py checks it: PostgreSQL 14 or newer, UTF8, collation and ctype `C`
 * unless `allow_unsafe_locale`. A database it cannot reach or use stops it, as it stops Synapse.
 * With `sqlite3` they stay in memory: the stand-in has no SQLite, and `npm run try` needs none.
 */
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import pg from "pg";

export interface DatabaseConfig {
  name: string;
  allow_unsafe_locale?: boolean;
  args?: { user?: string; password?: string; dbname?: string; database?: string; host?: string; port?: number };
}
export interface Session {
  user: string;
  device: string;
}

export interface Store {
  /** False when the user exists already. */
  addUser(user: string, password: string): Promise<boolean>;
  passwordMatches(user: string, password: string): Promise<boolean>;
  userExists(user: string): Promise<boolean>;
  addSession(token: string, session: Session): Promise<void>;
  session(token: string): Promise<Session | undefined>;
}

/** A salted scrypt hash: the stand-in never keeps a password in clear (Synapse keeps bcrypt hashes). */
function hash(password: string, salt = randomBytes(16).toString("hex")): string {
  return `${salt}$${scryptSync(password, salt, 32).toString("hex")}`;
}
function verify(password: string, stored: string): boolean {
  const [salt] = stored.split("$");
  return timingSafeEqual(Buffer.from(hash(password, salt)), Buffer.from(stored));
}

class MemoryStore implements Store {
  private readonly users = new Map<string, string>();
  private readonly sessions = new Map<string, Session>();
  async addUser(user: string, password: string) {
    if (this.users.has(user)) return false;
    this.users.set(user, hash(password));
    return true;
  }
  async passwordMatches(user: string, password: string) {
    const stored = this.users.get(user);
    return stored !== undefined && verify(password, stored);
  }
  async userExists(user: string) {
    return this.users.has(user);
  }
  async addSession(token: string, session: Session) {
    this.sessions.set(token, session);
  }
  async session(token: string) {
    return this.sessions.get(token);
  }
}

class PostgresStore implements Store {
  constructor(private readonly pool: pg.Pool) {}
  async addUser(user: string, password: string) {
    const added = await this.pool.query(
      "INSERT INTO users (name, password_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      [user, hash(password)],
    );
    return added.rowCount === 1;
  }
  async passwordMatches(user: string, password: string) {
    const found = await this.pool.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE name = $1", [
      user,
    ]);
    return found.rows.length === 1 && verify(password, found.rows[0]!.password_hash);
  }
  async userExists(user: string) {
    return (await this.pool.query("SELECT 1 FROM users WHERE name = $1", [user])).rows.length === 1;
  }
  async addSession(token: string, session: Session) {
    await this.pool.query("INSERT INTO access_tokens (token, user_id, device_id) VALUES ($1, $2, $3)", [
      token,
      session.user,
      session.device,
    ]);
  }
  async session(token: string) {
    const found = await this.pool.query<{ user_id: string; device_id: string }>(
      "SELECT user_id, device_id FROM access_tokens WHERE token = $1",
      [token],
    );
    const row = found.rows[0];
    return row ? { user: row.user_id, device: row.device_id } : undefined;
  }
}

/** Synapse's own checks of a PostgreSQL database (storage/engines/postgres.py, check_database), with its words. */
async function checkDatabase(client: pg.PoolClient, allowUnsafeLocale: boolean): Promise<void> {
  const version = Number(
    (await client.query<{ server_version_num: string }>("SHOW server_version_num")).rows[0]!.server_version_num,
  );
  if (version < 140000) throw new Error("Synapse requires PostgreSQL 14 or above.");
  const encoding = (await client.query<{ server_encoding: string }>("SHOW SERVER_ENCODING")).rows[0]!.server_encoding;
  if (encoding !== "UTF8")
    throw new Error(
      `Database has incorrect encoding: '${encoding}' instead of 'UTF8'\nSee docs/postgres.md for more information.`,
    );
  const locale = (
    await client.query<{ datcollate: string; datctype: string }>(
      "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()",
    )
  ).rows[0]!;
  if (allowUnsafeLocale) return;
  if (locale.datcollate !== "C")
    throw new Error(
      `Database has incorrect collation of '${locale.datcollate}'. Should be 'C'\nSee docs/postgres.md for more information. You can override this check bysetting 'allow_unsafe_locale' to true in the database config.`,
    );
  if (locale.datctype !== "C")
    throw new Error(
      `Database has incorrect ctype of '${locale.datctype}'. Should be 'C'\nSee docs/postgres.md for more information. You can override this check bysetting 'allow_unsafe_locale' to true in the database config.`,
    );
}

/** The store homeserver.yaml's `database` names, ready to use; throws what Synapse would die of. */
export async function openStore(database: DatabaseConfig | undefined): Promise<Store> {
  const engine = database?.name ?? "sqlite3";
  if (engine === "sqlite3") return new MemoryStore();
  if (engine !== "psycopg2") throw new Error(`Unsupported database engine '${engine}'`);
  const args = database!.args ?? {};
  const pool = new pg.Pool({
    user: args.user,
    password: args.password,
    database: args.dbname ?? args.database,
    host: args.host,
    port: args.port,
    max: 5,
  });
  // A connection the server dropped (a restart) is replaced on the next query, as Synapse's pool reconnects.
  pool.on("error", (error) => console.error(`database connection lost: ${error.message}`));
  const client = await pool.connect();
  try {
    await checkDatabase(client, database!.allow_unsafe_locale ?? false);
    await client.query(
      "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL);" +
        "CREATE TABLE IF NOT EXISTS access_tokens (token TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (name), device_id TEXT NOT NULL)",
    );
  } finally {
    client.release();
  }
  return new PostgresStore(pool);
}
