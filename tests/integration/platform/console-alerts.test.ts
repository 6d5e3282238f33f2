import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_TENANT, USERS, userJwt } from "../../helpers/auth.ts";
import { fnUrl } from "../../helpers/env.ts";
import { hex, sql } from "../../helpers/db.ts";

// Issue 11 item 20: an alert without a trace links to the console's #/alerts, so the
// console has an alerts view (the route, its page section and GET api/alerts).
const CONSOLE = fnUrl("console");
let ops: string;

beforeAll(async () => {
  ops = await userJwt(USERS.ops);
});
afterAll(() => sql.end());

describe("console alerts view", () => {
  it("the page has the #/alerts view and the app routes it", async () => {
    const page = await (await fetch(`${CONSOLE}/`)).text();
    expect(page).toContain('id="alerts-view"');
    expect(page).toContain('href="#/alerts"');
    const app = await (await fetch(`${CONSOLE}/app.js`)).text();
    expect(app).toMatch(/#\\\/alerts/);
    expect(app).toContain('api("alerts")');
  });

  it("GET api/alerts lists the tenant's alerts (metrics.read), open first", async () => {
    const key = `console-alerts-${hex(4)}`;
    await sql`select app_private.raise_alert(${DEMO_TENANT}, 'test.console_alerts', 'warning', ${key}, 'disk almost full')`;
    const res = await fetch(`${CONSOLE}/api/alerts`, { headers: { authorization: `Bearer ${ops}` } });
    expect(res.status).toBe(200);
    const body = await res.json();
    const mine = body.alerts.find((a: { dedupe_key: string }) => a.dedupe_key === key);
    expect(mine).toMatchObject({ source: "test.console_alerts", severity: "warning", summary: "disk almost full", resolved_at: null, trace_id: null });
    await sql`update alerts set resolved_at = now() where dedupe_key = ${key}`;
  });
});
