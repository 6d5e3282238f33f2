/**
 * A steady load of rates.price_one for the DR drill and tests: each client posts one quote
 * after another; a 200 is an acknowledged write (its quote id kept), anything else (503 while
 * the database switches, a refused connection while the runtime restarts) is not.
 */
import { SignJWT } from "jose";
import { apiUrl, type Instance } from "../stack/instance.ts";

const DEMO_TENANT = "d0000000-0000-4000-8000-000000000001";
const DEMO_OPS = "e0000000-0000-4000-8000-000000000003";

export interface LoadResult {
  acked: string[];
  refused: number;
}

export interface Load {
  /** Acknowledged so far (a live view). */
  readonly acked: string[];
  stop(): Promise<LoadResult>;
}

export async function opsToken(i: Instance): Promise<string> {
  return await new SignJWT({ role: "authenticated", tenant_id: DEMO_TENANT, principal_kind: "human" }).setProtectedHeader({ alg: "HS256" })
    .setSubject(DEMO_OPS).setIssuedAt().setExpirationTime("1h").sign(new TextEncoder().encode(i.jwtSecret));
}

/** One price_one; the quote id when it was acknowledged (200), else null. */
export async function priceOne(i: Instance, token: string): Promise<string | null> {
  const pickup = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  try {
    const res = await fetch(`${apiUrl(i)}/functions/v1/rates/price_one`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.json().catch(() => null);
    return res.status === 200 && body?.data?.quote_id ? String(body.data.quote_id) : null;
  } catch {
    return null;
  }
}

export async function startLoad(i: Instance, clients = 4): Promise<Load> {
  const token = await opsToken(i);
  const acked: string[] = [];
  let refused = 0;
  let running = true;
  const client = async () => {
    while (running) {
      const id = await priceOne(i, token);
      if (id) acked.push(id);
      else {
        refused++;
        await new Promise((r) => setTimeout(r, 50)); // the database is away: do not spin
      }
    }
  };
  const all = Array.from({ length: clients }, client);
  return {
    acked,
    async stop() {
      running = false;
      await Promise.all(all);
      return { acked, refused };
    },
  };
}

/** The acknowledged quotes missing on the (new) primary: the writes a cutover lost. */
export async function missingQuotes(sql: import("postgres").Sql, acked: string[]): Promise<string[]> {
  const found = await sql`select id::text from public.rates_quotes where id = any(${acked}::uuid[])`;
  const have = new Set(found.map((r) => r.id));
  return acked.filter((id) => !have.has(id));
}
