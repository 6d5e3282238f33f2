/**
 * Issue 12 item 10: request metrics were cleared before their flush, so a flush that failed
 * (the database away) lost them (981 of 1,000 requests recorded after one crash). They are
 * kept until a flush commits. The buffer's database sits behind a proxy the test takes down.
 */
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { MetricsBuffer } from "../../../packages/shared/pipeline/telemetry.ts";
import { sql } from "../../helpers/db.ts";
import { dbProxy } from "../../helpers/db-proxy.ts";
import { stackEnv } from "../../helpers/env.ts";

afterAll(() => sql.end());

describe("request metrics", () => {
  it("a flush that fails keeps its requests for the next one: none lost", async () => {
    const proxy = await dbProxy(stackEnv.dbUrl);
    const away = postgres(proxy.url, { prepare: false, max: 1, connect_timeout: 5, onnotice: () => {} });
    const metrics = new MetricsBuffer(away, createLogger("metrics-flush-test"));
    const fn = `metrics-flush-${randomUUID()}`;
    const recorded = async () => {
      const [r] = await sql`select coalesce(sum(count), 0)::int as count, coalesce(sum(errors), 0)::int as errors,
                                   coalesce(sum(le_100), 0)::int as fast
                            from public.request_metrics where function_name = ${fn}`;
      return r;
    };
    try {
      for (let i = 0; i < 3; i++) metrics.add({ fn, portal: null, tenantId: null, ms: 50, error: false });
      await proxy.down();
      await metrics.flush(); // fails: the database is away
      expect(await recorded()).toEqual({ count: 0, errors: 0, fast: 0 });

      await proxy.up();
      for (let i = 0; i < 2; i++) metrics.add({ fn, portal: null, tenantId: null, ms: 2000, error: true });
      await metrics.flush();
      expect(await recorded()).toEqual({ count: 5, errors: 2, fast: 3 });
      await metrics.flush(); // nothing left: nothing counted twice
      expect(await recorded()).toEqual({ count: 5, errors: 2, fast: 3 });
    } finally {
      await away.end({ timeout: 1 });
      await proxy.close();
      await sql`delete from public.request_metrics where function_name = ${fn}`;
    }
  });
});
