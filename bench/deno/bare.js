// The HTTP ceiling: a bare Deno.serve endpoint answering a small JSON body on the port given
// as the first argument. Started and stopped by bench/lib/deno-bare.ts (plain JS, so the
// Node type-check leaves it alone).
const port = Number(Deno.args[0]);
const body = JSON.stringify({ data: { ok: true } });
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => console.log("listening") }, () =>
  new Response(body, { headers: { "content-type": "application/json" } }));
