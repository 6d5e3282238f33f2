import { FunctionsClient } from "@supabase/functions-js";
import { describe, expect, it } from "vitest";
import { stackEnv } from "../../helpers/env.ts";
import { USERS, userJwt } from "../../helpers/auth.ts";
import { switchyardClient } from "../../../packages/client/index.ts";

// supabase-js's own FunctionsClient (what supabase.functions is), without realtime: Node 20
// has no WebSocket. In a browser or Deno, pass the createClient() result itself.
const clientFor = async (user: string) =>
  switchyardClient({
    functions: new FunctionsClient(`${stackEnv.apiUrl}/functions/v1`, {
      headers: { Authorization: `Bearer ${await userJwt(user)}`, apikey: stackEnv.anonKey },
    }),
  });
const pickup = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

describe("typed portal client (supabase-js functions.invoke)", () => {
  it("prices a load with typed input and result", async () => {
    const sy = await clientFor(USERS.ops);
    const r = await sy.rates.price_one({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup }, { idempotencyKey: `client-${Date.now()}` });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.data.quote.miles).toBeGreaterThan(800);
    expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("returns refusals as problems with their code", async () => {
    const viewer = await clientFor(USERS.viewer);
    const r = await viewer.rates.price_one({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup });
    expect(r).toMatchObject({ ok: false, problem: { status: 403, code: "forbidden" } });
    const ops = await clientFor(USERS.ops);
    // @ts-expect-error: the schema's type rejects a boat at compile time; the server at run time.
    const bad = await ops.rates.price_one({ origin: "60601", destination: "75201", equipment: "boat", pickup_date: pickup });
    expect(bad).toMatchObject({ ok: false, problem: { status: 400, code: "validation_failed" } });
  });
});
