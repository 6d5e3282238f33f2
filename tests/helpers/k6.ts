/**
 * k6 is not installed here (AGPL, not used by the project): the tests bundle a k6 script
 * with esbuild, with the k6/* modules it imports stubbed, and import the bundle in Node.
 * The stubs forward to `globalThis.__k6`, which `k6Runtime` fills with a small synchronous
 * stand-in for k6's runtime (HTTP through curl, as k6's calls are synchronous), so the
 * scripts' own functions can run against the test stack. A k6 module without a stub here
 * fails the bundle: a new import has to be thought about.
 */
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";

export const K6_DIR = join(PROJECT_ROOT, "k6");

const STUBS: Record<string, string> = {
  k6: "export const check = (...a) => globalThis.__k6.check(...a); export const fail = (m) => globalThis.__k6.fail(m); export const sleep = (s) => globalThis.__k6.sleep(s);",
  "k6/http": "export const get = (url, params) => globalThis.__k6.request('GET', url, undefined, params); export const post = (url, body, params) => globalThis.__k6.request('POST', url, body, params);",
  "k6/metrics": "export class Trend { constructor(name, isTime) { this.name = name; this.isTime = isTime; } add(v, tags) { globalThis.__k6.add(this.name, v, tags); } }",
  "k6/crypto": "export const hmac = (...a) => globalThis.__k6.hmac(...a);",
  "k6/encoding": "export const b64encode = (...a) => globalThis.__k6.b64encode(...a);",
  "k6/execution": "export const test = { fail: (m) => globalThis.__k6.testFail(m), abort: (m) => globalThis.__k6.fail(m) };",
};

const g = globalThis as unknown as { open?: (p: string) => string; __ENV?: Record<string, string>; __k6?: unknown };
const outDir = mkdtempSync(join(tmpdir(), "k6-bundle-"));

/** Bundles k6/<file> (k6 modules stubbed) and imports it: its exported options and functions. */
export async function loadK6Script(file: string): Promise<Record<string, any>> {
  const out = await build({
    entryPoints: [join(K6_DIR, file)], bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent",
    plugins: [{
      name: "k6-stubs",
      setup(b) {
        b.onResolve({ filter: /^k6(\/.*)?$/ }, (a) => {
          if (!(a.path in STUBS)) return { errors: [{ text: `no stub for ${a.path} in tests/helpers/k6.ts` }] };
          return { path: a.path, namespace: "k6-stub" };
        });
        b.onLoad({ filter: /.*/, namespace: "k6-stub" }, (a) => ({ contents: STUBS[a.path], loader: "js" }));
      },
    }],
  });
  // k6's open() reads relative to the script, at init only.
  g.open ??= (p: string) => readFileSync(resolve(K6_DIR, p), "utf8");
  g.__ENV ??= {};
  const path = join(outDir, `${file.replace(/\W/g, "_")}-${randomBytes(4).toString("hex")}.mjs`);
  writeFileSync(path, out.outputFiles[0].text);
  return import(pathToFileURL(path).href);
}

export interface K6Run {
  metrics: Record<string, number[]>;
  checks: Record<string, { passes: number; fails: number }>;
  failed: string[]; // exec.test.fail() messages
}

/** Installs the runtime stand-in with these __ENV values; what the script records lands in the result. */
export function k6Runtime(env: Record<string, string>): K6Run {
  const run: K6Run = { metrics: {}, checks: {}, failed: [] };
  g.__ENV = env;
  g.__k6 = {
    request(method: string, url: string, body: string | undefined, params?: { headers?: Record<string, string> }) {
      const args = ["-sS", "-X", method, "--max-time", "30", "-w", "\n%{http_code}"];
      for (const [k, v] of Object.entries(params?.headers ?? {})) args.push("-H", `${k}: ${v}`);
      if (body !== undefined) args.push("--data-binary", body);
      const out = execFileSync("curl", [...args, url], { encoding: "utf8" });
      const cut = out.lastIndexOf("\n");
      const text = out.slice(0, cut);
      return { status: Number(out.slice(cut + 1)), body: text, json: (sel?: string) => (sel ? JSON.parse(text)[sel] : JSON.parse(text)) };
    },
    check(val: unknown, sets: Record<string, (v: unknown) => boolean>) {
      let all = true;
      for (const [name, fn] of Object.entries(sets)) {
        const ok = fn(val);
        const c = (run.checks[name] ??= { passes: 0, fails: 0 });
        if (ok) c.passes++;
        else c.fails++;
        all &&= ok;
      }
      return all;
    },
    fail(msg: string) {
      throw new Error(msg);
    },
    testFail(msg: string) {
      run.failed.push(msg);
    },
    sleep(s: number) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, s * 1000);
    },
    hmac(alg: string, key: string, data: string, enc: string) {
      if (enc !== "base64rawurl") throw new Error(`stub hmac: encoding ${enc}`);
      return createHmac(alg, key).update(data).digest("base64url");
    },
    b64encode(input: string, variant: string) {
      if (variant !== "rawurl") throw new Error(`stub b64encode: variant ${variant}`);
      return Buffer.from(input).toString("base64url");
    },
    add(name: string, v: number) {
      (run.metrics[name] ??= []).push(v);
    },
  };
  return run;
}
