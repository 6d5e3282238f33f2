import { parse } from "smol-toml";
import { problem, problemResponse } from "../../packages/shared/http/problem.ts";

export interface FunctionDef {
  name: string;
  verifyJwt: boolean;
  handler: (req: Request) => Response | Promise<Response>;
}

/**
 * Discovers supabase/functions/<name>/ (folders starting with `_` are shared code, as in
 * Supabase) and loads each one's handler.ts. index.ts is the hosted entry point and only
 * does `Deno.serve(handler)`.
 */
export async function loadFunctions(projectRoot: string): Promise<Map<string, FunctionDef>> {
  const config = parse(await Deno.readTextFile(`${projectRoot}/supabase/config.toml`)) as {
    functions?: Record<string, { verify_jwt?: boolean }>;
  };
  const out = new Map<string, FunctionDef>();
  for await (const entry of Deno.readDir(`${projectRoot}/supabase/functions`)) {
    if (!entry.isDirectory || entry.name.startsWith("_")) continue;
    const file = `${projectRoot}/supabase/functions/${entry.name}/handler.ts`;
    if (!(await Deno.stat(file).then(() => true, () => false))) continue; // not a function (yet)
    // A function that fails to load answers 503 and is logged; the others keep serving.
    const handler = await import(file).then(
      (mod) => mod.handler as FunctionDef["handler"],
      (err) => {
        console.error(JSON.stringify({ level: "error", msg: "function failed to load", fn: entry.name, err: String(err) }));
        return () => problemResponse(problem(503, "function_unavailable", "The function failed to load"));
      },
    );
    out.set(entry.name, { name: entry.name, verifyJwt: config.functions?.[entry.name]?.verify_jwt ?? true, handler });
  }
  return out;
}
