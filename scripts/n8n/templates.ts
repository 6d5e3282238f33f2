/**
 * The n8n templates in n8n/*.json (n8n's workflow export format) and their Code nodes run
 * outside n8n: `runCodeNode` evaluates a node's jsCode in node:vm with the parts of n8n's Code
 * node sandbox the templates use ($input, $env, $, $getWorkflowStaticData, require of the builtins
 * NODE_FUNCTION_ALLOW_BUILTIN allows, this.helpers), and no global n8n's sandbox lacks. npm test runs them against the real gateway;
 * `npm run n8n:e2e` runs the same JSON in a real n8n.
 */
import * as crypto from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { PROJECT_ROOT } from "../stack/instance.ts";

export const TEMPLATES_DIR = join(PROJECT_ROOT, "n8n");

export interface N8nNode {
  id: string;
  name: string;
  type: string;
  typeVersion: number;
  parameters: Record<string, unknown>;
  credentials?: Record<string, { id: string; name: string }>;
  webhookId?: string;
}

export interface Workflow {
  id: string;
  name: string;
  nodes: N8nNode[];
  connections: Record<string, { main: { node: string; type: string; index: number }[][] }>;
}

export function templateFiles(): string[] {
  return readdirSync(TEMPLATES_DIR).filter((f) => f.endsWith(".json")).sort();
}

export function loadTemplate(file: string): Workflow {
  return JSON.parse(readFileSync(join(TEMPLATES_DIR, file), "utf8")) as Workflow;
}

export function nodeNamed(wf: Workflow, name: string): N8nNode {
  const n = wf.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`${wf.name} has no node "${name}"`);
  return n;
}

export const codeOf = (wf: Workflow, name: string) => String(nodeNamed(wf, name).parameters.jsCode);

export interface Item {
  json: Record<string, unknown>;
  binary?: Record<string, { data: string; mimeType?: string; id?: string }>;
}

export interface CodeContext {
  items: Item[];
  env: Record<string, string | undefined>;
  /** $getWorkflowStaticData('global'): kept by the caller between runs, as n8n keeps it. */
  staticData?: Record<string, unknown>;
  /** $('<node>').all(): the output of earlier nodes. */
  nodes?: Record<string, Item[]>;
  /** Builtins require() may load (n8n: NODE_FUNCTION_ALLOW_BUILTIN); default crypto. */
  allowBuiltin?: string[];
}

const BUILTINS: Record<string, unknown> = { crypto };

/** Runs a Code node's script ("Run Once for All Items") as n8n would, and returns its items. */
export async function runCodeNode(jsCode: string, ctx: CodeContext): Promise<Item[]> {
  const allow = ctx.allowBuiltin ?? ["crypto"];
  const staticData = ctx.staticData ?? {};
  const output = (name: string) => {
    const items = ctx.nodes?.[name];
    if (!items) throw new Error(`Referenced node doesn't exist or didn't run: ${name}`);
    return { all: () => items, first: () => items[0], item: items[0] };
  };
  // The globals n8n 1.123's JS task runner gives a Code node (@n8n/task-runner, buildContext and
  // getNativeVariables): no URL, no URLSearchParams, no fetch. `this` is the context itself.
  const context = vm.createContext({
    require: (m: string) => {
      if (!allow.includes(m) || !BUILTINS[m]) throw new Error(`Cannot find module '${m}' (NODE_FUNCTION_ALLOW_BUILTIN)`);
      return BUILTINS[m];
    },
    console,
    $getWorkflowStaticData: () => staticData,
    Buffer, setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate, btoa, atob,
    TextDecoder, TextDecoderStream, TextEncoder, TextEncoderStream, FormData,
    $input: { all: () => ctx.items, first: () => ctx.items[0] },
    $env: new Proxy({}, { get: (_t, k) => (typeof k === "string" ? ctx.env[k] : undefined) }),
    $: output,
    helpers: {
      getBinaryDataBuffer: (index: number, prop: string) => Promise.resolve(Buffer.from(ctx.items[index].binary![prop].data, "base64")),
    },
  });
  const out = await (vm.runInContext(`(async function VmCodeWrapper() {${jsCode}\n})()`, context, { filename: "code-node.js" }) as Promise<Item[]>);
  return JSON.parse(JSON.stringify(out)) as Item[];
}

/** What n8n's Webhook node (Raw Body on) hands the next node for a request. */
export function webhookItem(headers: Record<string, string>, raw: string | Buffer): Item {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, "utf8");
  let body: unknown = {};
  try {
    body = JSON.parse(bytes.toString("utf8"));
  } catch { /* a form: the templates read the raw bytes only */ }
  return { json: { headers: lower, params: {}, query: {}, body }, binary: { data: { data: bytes.toString("base64"), mimeType: "application/json" } } };
}

/**
 * Values that must never sit in a template: signing keys, webhook secrets, Stripe keys, JWTs,
 * Slack tokens and webhook URLs. Returns one line per finding.
 */
export function secretFindings(text: string): string[] {
  const patterns: [string, RegExp][] = [
    ["a Standard Webhooks secret", /whsec_[A-Za-z0-9+/=]{8,}/],
    ["a Stripe key", /\b[sr]k_(?:live|test)_[A-Za-z0-9]{8,}/],
    ["a JWT", /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
    ["a hex signing key", /\b[0-9a-f]{64}\b/i],
    ["a Switchyard key id", /\bsk_[a-z0-9]+_[0-9a-f]{12,}/],
    ["a Slack token", /\bxox[abpr]-[A-Za-z0-9-]{8,}/],
    ["a Slack webhook URL", /hooks\.slack\.com\/services\/[A-Za-z0-9/]+/],
    ["a bearer token", /Bearer\s+[A-Za-z0-9._~+/-]{16,}/],
    ["a password in a URL", /\/\/[^/\s:@"]+:[^/\s@"]+@/],
  ];
  return patterns.flatMap(([what, re]) => {
    const m = text.match(re);
    return m ? [`${what}: ${m[0].slice(0, 12)}...`] : [];
  });
}
