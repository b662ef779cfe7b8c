#!/usr/bin/env node
// @ts-check
/**
 * Writes `gen/zod.js`: the parts of the zod package that procconn uses, as one module, and
 * `gen/connection_check.js`: the connection schema (`core/schema.ts`) compiled by zod. Run by
 * `npm ci` / `npm install` (the `postinstall` script), and again by hand after changing
 * ZOD_EXPORTS or the schema:
 *
 *   node scripts/bundle_zod.mjs
 *
 * Why: `import "zod"` loads about a hundred modules, among them every locale zod ships, and on a
 * slow machine that costs each listing 30-45 ms before it reads a socket. esbuild keeps only the
 * named exports below and what they need (the English messages included), so the result
 * validates and reports exactly as the package does. `core/_zod.ts` imports it with the
 * package's own types.
 *
 * The check: `z.compile` turns the schema of the fields (`buildFieldSchema`) into one generated
 * function, and this script writes that function out with the constants it closes over (sets of
 * allowed values, regular expressions, zod's own helpers, the functions compiled for nested
 * parts), followed by the rules between fields (`followsRules` from `core/rules.ts`, bundled from
 * the source). A listing then runs zod's code for the schema without building the schema (every
 * field's constructors) and compiling it first, which costs about 30 ms on a slow machine. When a record fails the check,
 * the schema is built after all, to decide and to name what is wrong.
 *
 * Without esbuild (`npm ci --omit=dev`), `gen/zod.js` re-exports the package and
 * `gen/connection_check.js` holds no check: procconn then works the same, only its start is
 * slower.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "gen", "zod.js");
const CHECK_OUT = join(ROOT, "gen", "connection_check.js");
/** zod's helpers, which compiled checks call; imported by path, as the package does not export it. */
const ZOD_UTIL = join(ROOT, "node_modules", "zod", "v4", "core", "util.js");

/** Every member of `z` the sources use; tests/core/zod_bundle_test.ts keeps this list honest. */
export const ZOD_EXPORTS = [
  "array",
  "compile",
  "enum",
  "iso",
  "number",
  "object",
  "partialRecord",
  "string",
  "toJSONSchema",
];

const reexport = `export { ${ZOD_EXPORTS.join(", ")} } from "zod";\n`;

const version = () =>
  JSON.parse(readFileSync(join(ROOT, "node_modules", "zod", "package.json"), "utf8")).version;

/**
 * How procconn's install scripts bundle: ES modules of the checkout's sources and packages that
 * run on Deno and Node alike (`scripts/bundle_app.mjs` uses them too).
 */
export const ESBUILD_MODULE_OPTIONS = {
  absWorkingDir: ROOT,
  bundle: true,
  format: /** @type {const} */ ("esm"),
  platform: /** @type {const} */ ("neutral"),
  mainFields: ["module", "main"],
  logLevel: /** @type {const} */ ("warning"),
  legalComments: /** @type {const} */ ("inline"),
};

/**
 * One ES module of `contents` and everything it imports, as esbuild bundles it from the
 * checkout (paths in its comments are relative to the checkout, whatever the working directory).
 *
 * @param {any} esbuild
 * @param {string} contents
 * @param {string} sourcefile The name the entry goes by in the output's comments.
 * @param {object} [more] More esbuild options.
 * @returns {Promise<string>}
 */
async function bundleModule(esbuild, contents, sourcefile, more = {}) {
  const result = await esbuild.build({
    ...ESBUILD_MODULE_OPTIONS,
    stdin: { contents, resolveDir: ROOT, sourcefile },
    write: false,
    ...more,
  });
  return result.outputFiles[0].text;
}

/** @returns {Promise<{ text: string, how: string }>} */
async function bundle() {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    return { text: reexport, how: "re-exported, as esbuild is not installed" };
  }
  const text = await bundleModule(esbuild, reexport, "zod-entry.js");
  return { text, how: "bundled by esbuild" };
}

/** What `gen/connection_check.js` holds when no check could be compiled. */
const NO_CHECK = "export const checkConnection = null;\n";

/**
 * A function `z.compile` generated: its parameter names, its body (which returns the check) and
 * the values it was called with.
 *
 * @typedef {{ names: string[], code: string, values: unknown[] }} Generated
 */

/**
 * Compiles the schema of the fields as `validateConnection` would, and records every function zod
 * generates on the way. zod makes them with `new Function(...names, body)` and calls the result
 * with the constants; the global `Function` is wrapped for that one call.
 *
 * @param {any} esbuild
 * @returns {Promise<{ check: Function, generated: Map<Function, Generated>, util: Record<string, unknown> }>}
 */
async function compileSchema(esbuild) {
  const entry = `export * as util from ${JSON.stringify(ZOD_UTIL)};\n` +
    `export { compile } from "zod";\n` +
    `export { buildFieldSchema } from "./core/schema.ts";\n`;
  const text = await bundleModule(esbuild, entry, "check-entry.js", {
    plugins: [{
      // core/_zod.ts imports the bundle this script writes; here the package stands in for it.
      name: "zod-package",
      setup(/** @type {any} */ build) {
        build.onResolve({ filter: /\/gen\/zod\.js$/ }, () => ({
          path: join(ROOT, "node_modules", "zod", "index.js"),
        }));
      },
    }],
  });
  const temporary = join(ROOT, "gen", `check-entry.${process.pid}.mjs`);
  mkdirSync(dirname(temporary), { recursive: true });
  writeFileSync(temporary, text);
  let module;
  try {
    module = await import(pathToFileURL(temporary).href);
  } finally {
    rmSync(temporary, { force: true });
  }
  /** @type {Map<Function, Generated>} */
  const generated = new Map();
  const RealFunction = globalThis.Function;
  /** @param {string[]} args */
  function Recording(...args) {
    const factory = RealFunction(...args);
    return (/** @type {unknown[]} */ ...values) => {
      const made = factory(...values);
      generated.set(made, { names: args.slice(0, -1), code: args[args.length - 1], values });
      return made;
    };
  }
  Recording.prototype = RealFunction.prototype;
  let compiled;
  globalThis.Function = /** @type {any} */ (Recording);
  try {
    compiled = module.compile(module.buildFieldSchema(), { strict: true });
  } finally {
    globalThis.Function = RealFunction;
  }
  return { check: compiled._zod.bag.validator, generated, util: module.util };
}

/**
 * The source of a value a generated function closes over, or a throw for one it cannot write.
 *
 * @param {unknown} value
 * @param {Map<Function, Generated>} generated
 * @param {Map<unknown, string>} helpers zod's helpers by identity -> their names
 * @param {Set<string>} used The helpers written so far.
 * @returns {string}
 */
function sourceOf(value, generated, helpers, used) {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) {
    return JSON.stringify(value);
  }
  if (typeof value === "symbol") {
    const key = Symbol.keyFor(value);
    if (key === undefined) throw new Error(`an unregistered symbol ${String(value)}`);
    return `Symbol.for(${JSON.stringify(key)})`;
  }
  if (value instanceof Set) {
    const items = [...value];
    if (!items.every((item) => typeof item === "string" || typeof item === "number")) {
      throw new Error("a set of other things than strings and numbers");
    }
    return `new Set(${JSON.stringify(items)})`;
  }
  if (value instanceof RegExp) {
    return `new RegExp(${JSON.stringify(value.source)}, ${JSON.stringify(value.flags)})`;
  }
  if (typeof value === "function") {
    const made = generated.get(value);
    if (made) return generatedSource(made, generated, helpers, used);
    const helper = helpers.get(value);
    if (helper) {
      used.add(helper);
      return helper;
    }
    for (const name of ["hasOwnProperty", "propertyIsEnumerable"]) {
      // @ts-ignore: the two are methods of every object
      if (value === Object.prototype[name]) return `Object.prototype.${name}`;
    }
  }
  throw new Error(`a constant it cannot write: ${String(value).slice(0, 80)}`);
}

/**
 * @param {Generated} made
 * @param {Map<Function, Generated>} generated
 * @param {Map<unknown, string>} helpers
 * @param {Set<string>} used
 * @returns {string}
 */
function generatedSource(made, generated, helpers, used) {
  const values = made.values.map((value) => sourceOf(value, generated, helpers, used));
  return `(function (${made.names.join(", ")}) {\n${made.code}\n})(${values.join(", ")})`;
}

/**
 * The text of `gen/connection_check.js`: the compiled schema and its constants, bundled with
 * the zod helpers it calls. The tests compare it with the file, so the file follows the schema.
 *
 * @returns {Promise<{ text: string, how: string }>}
 */
export async function connectionCheck() {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    return { text: NO_CHECK, how: "not compiled, as esbuild is not installed" };
  }
  const { check, generated, util } = await compileSchema(esbuild);
  const made = generated.get(check);
  if (!made) throw new Error("zod did not generate the check");
  const helpers = new Map(Object.entries(util).map(([name, value]) => [value, name]));
  /** @type {Set<string>} */
  const used = new Set();
  const body = generatedSource(made, generated, helpers, used);
  const imports = used.size
    ? `import { ${[...used].sort().join(", ")} } from ${JSON.stringify(ZOD_UTIL)};\n`
    : "";
  // The rules between fields are plain functions of the sources, bundled as they are.
  const contents = imports +
    `import { followsRules } from "./core/rules.ts";\n` +
    `const INVALID = Symbol.for("zod.compile.invalid");\n` +
    `const check = ${body};\n` +
    `export const checkConnection = (record) => check(record) !== INVALID && followsRules(record);\n`;
  const text = await bundleModule(esbuild, contents, "connection-check.js");
  return { text, how: "compiled by z.compile" };
}

/** Writes a generated file whole: beside it first, then renamed over it. */
function writeWhole(/** @type {string} */ path, /** @type {string} */ text) {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** The first lines of gen/connection_check.js. */
export function checkHeader(/** @type {string} */ how) {
  return `// Generated by scripts/bundle_zod.mjs from core/schema.ts and zod ${version()}, ${how}; ` +
    `do not edit.\n// zod is MIT licensed: node_modules/zod/LICENSE.\n`;
}

/** Writes gen/zod.js and gen/connection_check.js, and says so. */
async function main() {
  const { text, how } = await bundle();
  const header =
    `// Generated by scripts/bundle_zod.mjs from zod ${version()}, ${how}; do not edit.\n` +
    `// zod is MIT licensed: node_modules/zod/LICENSE.\n`;
  // Written beside and renamed, so an interrupted install never leaves half a module.
  writeWhole(OUT, header + text);
  console.log(`procconn: wrote gen/zod.js from zod ${version()}, ${how}`);

  let check;
  try {
    check = await connectionCheck();
  } catch (err) {
    // The schema is then compiled when first used, as without esbuild.
    const why = err instanceof Error ? err.message : String(err);
    console.warn(`procconn: could not compile the connection schema ahead (${why})`);
    check = { text: NO_CHECK, how: `not compiled (${why.replace(/\s+/g, " ").slice(0, 120)})` };
  }
  writeWhole(CHECK_OUT, checkHeader(check.how) + check.text);
  console.log(`procconn: wrote gen/connection_check.js, ${check.how}`);
}

// Imported (by the tests, for ZOD_EXPORTS) it writes nothing.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
