import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";
import { loadTemplate, secretFindings, templateFiles, TEMPLATES_DIR, type Workflow } from "../../scripts/n8n/templates.ts";

const files = templateFiles();
const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
const usingN8n = readme.slice(readme.indexOf("## Using n8n"), readme.indexOf("\n## ", readme.indexOf("## Using n8n") + 5));
const codeNodes = (wf: Workflow) => wf.nodes.filter((n) => n.type === "n8n-nodes-base.code");

describe("n8n templates (n8n/*.json)", () => {
  it("are the three flows, in n8n's export format, with every connection naming a node", () => {
    expect(files).toEqual(["checkout.json", "inbound.json", "outbound.json"]);
    for (const f of files) {
      const wf = loadTemplate(f);
      expect(wf.id, f).toMatch(/^[A-Za-z0-9]{16}$/);
      const names = new Set(wf.nodes.map((n) => n.name));
      expect(names.size, `${f}: node names are unique`).toBe(wf.nodes.length);
      for (const [from, c] of Object.entries(wf.connections)) {
        expect(names.has(from), `${f}: ${from}`).toBe(true);
        for (const t of c.main.flat()) expect(names.has(t.node), `${f}: ${from} -> ${t.node}`).toBe(true);
      }
    }
  });

  it("hold no secret: keys, webhook secrets and the Stripe key come from n8n's environment and credentials", () => {
    for (const f of files) {
      const text = readFileSync(join(TEMPLATES_DIR, f), "utf8");
      expect(secretFindings(text), f).toEqual([]);
      // A credential is referenced by id and name only: its value lives in n8n's credential store.
      for (const n of loadTemplate(f).nodes) {
        for (const ref of Object.values(n.credentials ?? {})) expect(Object.keys(ref).sort(), `${f}: ${n.name}`).toEqual(["id", "name"]);
      }
    }
  });

  it("the scan finds a secret pasted into a template", () => {
    const text = readFileSync(join(TEMPLATES_DIR, "inbound.json"), "utf8");
    const pasted = [
      `whsec_${Buffer.from("0123456789abcdef0123456789").toString("base64")}`,
      `sk_test_${"4eC39HqLyjWDarjtT1zdp7dc"}`,
      "sk_n8n_1f2e3d4c5b6a7980",
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.x",
    ];
    for (const s of pasted) expect(secretFindings(text.replace("SWITCHYARD_N8N_KEY_SECRET'", `${s}'`)), s).toHaveLength(1);
  });

  it("Code nodes load only crypto and read only the environment variables README's \"Using n8n\" lists", () => {
    expect(usingN8n.length).toBeGreaterThan(500);
    for (const f of files) {
      for (const n of codeNodes(loadTemplate(f))) {
        const code = String(n.parameters.jsCode);
        for (const [, mod] of code.matchAll(/require\('([^']+)'\)/g)) expect(mod, n.name).toBe("crypto");
        for (const name of [...code.matchAll(/\$env\.([A-Z0-9_]+)|need\('([A-Z0-9_]+)'\)/g)].map((m) => m[1] ?? m[2])) {
          expect(usingN8n, `${f}: ${n.name} reads ${name}`).toContain(`\`${name}\``);
        }
      }
    }
    for (const v of ["N8N_BLOCK_ENV_ACCESS_IN_NODE", "NODE_FUNCTION_ALLOW_BUILTIN", "Raw Body"]) expect(usingN8n).toContain(v);
  });

  it("the outbound webhook keeps the raw body and answers from the workflow (2xx only once handled)", () => {
    const wf = loadTemplate("outbound.json");
    const hook = wf.nodes.find((n) => n.type === "n8n-nodes-base.webhook")!;
    expect(hook.parameters).toMatchObject({ httpMethod: "POST", responseMode: "responseNode", options: { rawBody: true } });
    // Every path to a 2xx passes the verifier; the handled path passes "Remember webhook-id" first.
    expect(wf.connections["Switchyard outbox"].main[0][0].node).toBe("Verify Standard Webhooks signature");
    for (const step of ["CRM update", "Stripe checkout", "Slack message"]) expect(wf.connections[step].main[0][0].node).toBe("Remember webhook-id");
    expect(wf.connections["Remember webhook-id"].main[0][0].node).toBe("Handled");
  });
});
