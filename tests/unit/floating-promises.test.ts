/**
 * Issue 12 item 2, the class: no floating promise in the runtime, the relay, shared, the
 * portals or the functions (scripts/layout/floating.ts says what floats and how it is found).
 * An unhandled rejection ended the runtime: `void send(...).finally(...)` in the pg_net
 * worker let one failed response write kill it. Anything found fails with file:line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FLOATING_ROOTS, floatingPromises } from "../../scripts/layout/floating.ts";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";

/** The canary: each line marked `// floats: <rule>` must be found, and nothing else. */
const CANARY = `
async function work(): Promise<number> { return 1; }
declare function onEvent(cb: () => void): void;
declare const query: PromiseLike<number[]>;
export function cases() {
  work(); // floats: statement
  void work(); // floats: void
  onEvent(work); // floats: callback
  onEvent(async () => { await work(); }); // floats: callback
  work().finally(() => {}); // floats: statement
  work().then(() => 1); // floats: statement
  query; // floats: statement
  void work().catch(() => {});
  work().then(() => 1, () => 2);
  work().catch(() => {}).finally(() => {});
  onEvent(() => void work().catch(() => {}));
  const p = work();
  let q: Promise<number> | null = null;
  q ??= work();
  return [p, q, Promise.all([work()])];
}
`;

describe("no floating promises", () => {
  it("every promise in the runtime, relay, shared, portals and functions is awaited, returned, stored or has its rejection handled", () => {
    const dir = mkdtempSync(join(tmpdir(), "floating-"));
    const canary = join(dir, "canary.ts");
    writeFileSync(canary, CANARY);
    try {
      const found = floatingPromises(PROJECT_ROOT, [...FLOATING_ROOTS, canary]);
      const inCanary = found.filter((f) => f.where.includes("canary.ts"));
      const expected = CANARY.split("\n").flatMap((l, i) => {
        const m = /\/\/ floats: (\w+)/.exec(l);
        return m ? [`${i + 1} ${m[1]}`] : [];
      });
      expect(inCanary.map((f) => `${f.where.split(":").at(-1)} ${f.rule}`)).toEqual(expected);
      expect(found.filter((f) => !inCanary.includes(f)).map((f) => `${f.where} (${f.rule}): ${f.text}`)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
