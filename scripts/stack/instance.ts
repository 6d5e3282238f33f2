import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { isRoot } from "./exec.ts";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Supabase's local ports: API (functions gateway) and database. */
export const DEFAULT_PORTS = { api: 54321, db: 54322 };

/** Everything that identifies one local stack; persisted so `status` and `down` find it. */
export interface Instance {
  name: string;
  stateDir: string; // git-ignored, inside the project
  dataDir: string; // Postgres data; in the temp dir when the server runs as another OS user
  socketDir: string;
  osUser: string | null; // the unprivileged user the server runs as when we are root
  dbPort: number;
  apiPort: number;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  vaultRootKey: string;
  throwaway: boolean;
}

export const dbUrl = (i: Instance, user = "postgres", password = "postgres") =>
  `postgresql://${user}:${password}@127.0.0.1:${i.dbPort}/postgres`;
export const apiUrl = (i: Instance) => `http://127.0.0.1:${i.apiPort}`;

const stateFile = (name: string) => join(PROJECT_ROOT, ".stack", name, "state.json");

export function loadInstance(name: string): Instance | null {
  const f = stateFile(name);
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as Instance) : null;
}

async function signKey(secret: string, role: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ role, iss: "supabase-demo" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(now)
    .setExpirationTime(now + 10 * 365 * 24 * 3600)
    .sign(new TextEncoder().encode(secret));
}

/** Loads the named instance or creates its state (secrets, keys, folders) on first use. */
export async function ensureInstance(
  name: string,
  ports: { api: number; db: number },
  throwaway = false,
): Promise<Instance> {
  const existing = loadInstance(name);
  if (existing) return existing;
  const stateDir = join(PROJECT_ROOT, ".stack", name);
  const osUser = isRoot() ? "postgres" : null;
  // Postgres cannot run as root, and the unprivileged user may not be able to enter the
  // checkout (CI clones under root's home): keep its folders in the system temp dir then.
  const tag = createHash("sha256").update(PROJECT_ROOT).digest("hex").slice(0, 10);
  const pgRoot = osUser ? join(tmpdir(), `switchyard-${tag}-${name}`) : join(stateDir, "pg");
  const jwtSecret = randomBytes(32).toString("hex");
  const inst: Instance = {
    name,
    stateDir,
    dataDir: join(pgRoot, "data"),
    socketDir: join(pgRoot, "run"),
    osUser,
    dbPort: ports.db,
    apiPort: ports.api,
    jwtSecret,
    anonKey: await signKey(jwtSecret, "anon"),
    serviceRoleKey: await signKey(jwtSecret, "service_role"),
    vaultRootKey: randomBytes(24).toString("hex"),
    throwaway,
  };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(stateFile(name), JSON.stringify(inst, null, 2), { mode: 0o600 });
  return inst;
}

/** The environment the hosted platform gives an edge function, for this instance. */
/** Where the stack's functions keep document bytes (the local storage backend). */
export const storageDir = (i: Instance) => join(i.stateDir, "storage");

export function functionEnv(i: Instance): Record<string, string> {
  return {
    SUPABASE_URL: apiUrl(i),
    SUPABASE_DB_URL: dbUrl(i),
    SUPABASE_ANON_KEY: i.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: i.serviceRoleKey,
    SWITCHYARD_JWT_SECRET: i.jwtSecret,
    SWITCHYARD_STORAGE_DIR: storageDir(i),
  };
}
