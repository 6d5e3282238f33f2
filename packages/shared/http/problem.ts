/**
 * RFC 9457 problem details. Every refusal in Switchyard is one of these, with a stable
 * `code` clients switch on; `detail` is for humans and never carries internals or secrets.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problem(
  status: number,
  code: string,
  title: string,
  extra: Omit<Partial<Problem>, "status" | "code" | "title"> = {},
): Problem {
  return { type: `https://switchyard.dev/problems/${code}`, title, status, code, ...extra };
}

export function problemResponse(p: Problem, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", PROBLEM_CONTENT_TYPE);
  return new Response(JSON.stringify(p), { status: p.status, headers: h });
}
