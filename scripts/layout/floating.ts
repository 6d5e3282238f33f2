/**
 * Floating promises (issue 12 item 2, the class): a promise nobody handles rejects unhandled,
 * and an unhandled rejection ends a Deno process. deno lint has no type-aware
 * no-floating-promises, so this finds them with the TypeScript compiler's type checker, over
 * the code that runs in the runtime, the relay and the functions (Deno's own declarations
 * from `deno types`, Node's from @types/node, so Deno.* and node:* calls are typed).
 *
 * A thenable (a value with a callable `then`: promises, postgres.js queries) floats when:
 *   1. it is a statement of its own (`send(r);`),
 *   2. it is the operand of `void` (`void send(r)`): `void` says "not awaited", not "handled",
 *   3. a function returning one is passed where a callback's result is ignored (a parameter
 *      typed `() => void`: `setInterval(drain, 1000)`, `Deno.addSignalListener("SIGTERM", shutdown)`),
 * unless its chain handles rejection: `.catch(f)`, `.then(f, g)`, or either before a `.finally`.
 * Awaited, returned, assigned or passed on (to `Promise.all`, say) is someone else's to handle.
 * The idiom for "start it and carry on": `void work().catch((err) => log(...))`.
 */
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import ts from "typescript";

export const FLOATING_ROOTS = ["scripts/runtime", "scripts/relay.ts", "packages/shared", "packages/portals", "supabase/functions"];

export interface Floating {
  where: string;
  rule: "statement" | "void" | "callback";
  text: string;
}

function sources(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((e) => sources(join(path, e))).filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f));
}

/** Deno's declarations (the Deno namespace, its web APIs), written once per process. */
let denoTypes: string | null = null;
function denoDeclarations(root: string): string {
  if (!denoTypes) {
    denoTypes = join(tmpdir(), `switchyard-deno-types-${process.pid}.d.ts`);
    const text = execFileSync(join(root, "node_modules", ".bin", "deno"), ["types"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    // Its triple-slash lib references name Deno-only libs; esnext comes from the options.
    writeFileSync(denoTypes, text.replace(/^\/\/\/ <reference (no-default-lib|lib)=.*$/gm, ""));
  }
  return denoTypes;
}

const isThenable = (checker: ts.TypeChecker, type: ts.Type): boolean =>
  checker.getNonNullableType(type).isUnion()
    ? (checker.getNonNullableType(type) as ts.UnionType).types.some((t) => isThenable(checker, t))
    : (() => {
      const then = type.getProperty("then");
      if (!then) return false;
      return checker.getTypeOfSymbol(then).getCallSignatures().length > 0;
    })();

/** `.catch(f)`, `.then(f, g)`, or such a chain followed by `.finally(...)`. */
function handled(e: ts.Expression): boolean {
  e = ts.skipPartiallyEmittedExpressions(e);
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  if (!ts.isCallExpression(e) || !ts.isPropertyAccessExpression(e.expression)) return false;
  const name = e.expression.name.text;
  if (name === "catch") return e.arguments.length >= 1;
  if (name === "then") return e.arguments.length >= 2;
  if (name === "finally") return handled(e.expression.expression);
  return false;
}

const returnsThenable = (checker: ts.TypeChecker, type: ts.Type) =>
  type.getCallSignatures().some((s) => isThenable(checker, s.getReturnType()));
const ignoresResult = (type: ts.Type | undefined) =>
  !!type && type.getCallSignatures().length > 0 &&
  type.getCallSignatures().every((s) => (s.getReturnType().flags & ts.TypeFlags.Void) !== 0);

/** Every floating promise in `paths` (files or folders, relative to the project `root` or absolute). */
export function floatingPromises(root: string, paths: string[] = FLOATING_ROOTS): Floating[] {
  const files = paths.flatMap((p) => sources(resolve(root, p)));
  const program = ts.createProgram([...files, denoDeclarations(root)], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    esModuleInterop: true,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    lib: ["lib.esnext.d.ts"],
    types: ["node"],
    typeRoots: [join(root, "node_modules", "@types")],
  });
  const checker = program.getTypeChecker();
  const found: Floating[] = [];
  for (const file of files) {
    const src = program.getSourceFile(file);
    if (!src) continue;
    const add = (n: ts.Node, rule: Floating["rule"]) => found.push({
      where: `${relative(root, file)}:${src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1}`,
      rule,
      text: n.getText(src).replace(/\s+/g, " ").slice(0, 100),
    });
    const floats = (e: ts.Expression) => isThenable(checker, checker.getTypeAtLocation(e)) && !handled(e);
    // `p = work()` as a statement stores the promise: whoever reads it handles it.
    const stored = (e: ts.Expression) => ts.isBinaryExpression(e) &&
      e.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && e.operatorToken.kind <= ts.SyntaxKind.LastAssignment;
    const visit = (n: ts.Node) => {
      if (ts.isExpressionStatement(n) && !stored(n.expression) && floats(n.expression)) add(n, "statement");
      else if (ts.isVoidExpression(n) && floats(n.expression)) add(n, "void");
      else if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
        // Only what can be a function: a function expression or a reference to one.
        for (const arg of (n.arguments ?? []).filter((a) => ts.isFunctionLike(a) || ts.isIdentifier(a) || ts.isPropertyAccessExpression(a))) {
          if (returnsThenable(checker, checker.getTypeAtLocation(arg)) && ignoresResult(checker.getContextualType(arg))) add(arg, "callback");
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return found;
}
