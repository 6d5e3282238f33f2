import { jwtVerify } from "jose";
import { problem, problemResponse } from "../../packages/shared/http/problem.ts";
import type { FunctionDef } from "./functions.ts";

const PREFIX = "/functions/v1/";

/**
 * The hosted platform's functions gateway, locally: routes /functions/v1/<name>/... to the
 * function, verifying the caller's JWT first where config.toml says verify_jwt. The
 * function sees the path without /functions/v1, as it does when hosted.
 */
export function gateway(functions: Map<string, FunctionDef>, jwtSecret: string) {
  const key = new TextEncoder().encode(jwtSecret);
  return async (req: Request, info?: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> => {
    const url = new URL(req.url);
    if (!url.pathname.startsWith(PREFIX)) {
      return problemResponse(problem(404, "not_found", "No such route"));
    }
    const name = url.pathname.slice(PREFIX.length).split("/")[0];
    const fn = functions.get(name);
    if (!fn) return problemResponse(problem(404, "function_not_found", "No such function"));
    if (fn.verifyJwt && req.method !== "OPTIONS") {
      const auth = req.headers.get("authorization") ?? "";
      const token = auth.match(/^Bearer\s+(.+)$/i)?.[1];
      if (!token) return problemResponse(problem(401, "missing_authorization", "Missing authorization header"));
      try {
        await jwtVerify(token, key, { algorithms: ["HS256"] });
      } catch {
        return problemResponse(problem(401, "invalid_jwt", "Invalid or expired JWT"));
      }
    }
    url.pathname = url.pathname.slice(PREFIX.length - 1);
    // Like the hosted platform, the gateway says who connected (a client's own value is replaced).
    const forwarded = new Request(url, req);
    if (info?.remoteAddr) forwarded.headers.set("x-forwarded-for", info.remoteAddr.hostname);
    try {
      return await fn.handler(forwarded);
    } catch (err) {
      console.error(JSON.stringify({ level: "error", msg: "function crashed", fn: name, err: String(err) }));
      return problemResponse(problem(500, "internal_error", "The function failed"));
    }
  };
}
