/**
 * One name everywhere: every registry portal is a public.portals row, every action's
 * permission exists, and every flag a portal's README names is defined.
 */
import { afterAll, describe, expect, it } from "vitest";
import { loadManifest, PORTALS } from "../../../packages/portals/registry.ts";
import { sql } from "../../helpers/db.ts";

afterAll(() => sql.end());

describe("the registry agrees with the database", () => {
  it("every portal has its public.portals row; every action's permission exists", async () => {
    const rows = new Set((await sql`select name from public.portals`).map((r) => r.name));
    const perms = new Set((await sql`select permission from public.permissions`).map((r) => r.permission));
    for (const p of PORTALS) {
      expect(rows.has(p.name), `public.portals row ${p.name}`).toBe(true);
      const m = await loadManifest(p.name);
      expect(m.fn).toBe(p.fn);
      for (const a of m.actions) expect(perms.has(a.permission), `${p.name}/${a.name} needs ${a.permission}`).toBe(true);
    }
  });
});
