// Packs the release bundles from the executables in dist/:
//   dist/procconn-<version>-windows-x64.zip     procconn.exe, JSON Schema, README.txt, ProcConn/,
//                                               SHA256SUMS
//   dist/procconn-<version>-linux-x64.tar.gz    procconn,     JSON Schema, README.txt, ProcConn/,
//                                               SHA256SUMS
// ProcConn/ is the PowerShell module (ps-wrapper/ProcConn); it finds the executable in the folder
// that holds it.
// plus dist/SHA256SUMS over the two archives. The executables come from `deno task compile`
// (dist/procconn.exe, dist/procconn) or, when those are absent, from `npm run build:exe`
// (dist/procconn-node.exe, dist/procconn-node).
//
// Usage: node scripts/release.mjs [--dist DIR]
import { createHash } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { parseArgs } from "node:util";
import { TarArchive, ZipArchive } from "archiver";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The two bundles: which executables may fill them, and what the executable is called inside. */
export const BUNDLES = [
  {
    platform: "windows-x64",
    archive: "zip",
    exe: "procconn.exe",
    candidates: [["procconn.exe", "deno"], ["procconn-node.exe", "node"]],
  },
  {
    platform: "linux-x64",
    archive: "tar.gz",
    exe: "procconn",
    candidates: [["procconn", "deno"], ["procconn-node", "node"]],
  },
];

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/** `sha256sum`-compatible lines: `<hex>  <name>`. */
export function checksumLines(files) {
  return files.map(({ name, bytes }) => `${sha256(bytes)}  ${name}\n`).join("");
}

/** The PowerShell module's files, as bundle entries under ProcConn/. */
function moduleFiles() {
  const base = join(ROOT, "ps-wrapper");
  return readdirSync(join(base, "ProcConn"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort()
    .map((path) => ({
      name: relative(base, path).split("\\").join("/"),
      bytes: readFileSync(path),
      mode: 0o644,
    }));
}

function readme(version, bundle, runtime) {
  const run = bundle.platform.startsWith("windows") ? "procconn.exe" : "./procconn";
  return [
    `procconn ${version} (${bundle.platform}, built on ${runtime})`,
    "",
    "Which process owns this connection? Every TCP and UDP endpoint, IPv4 and IPv6, with the",
    "process behind it. One file, no install; the basic listing needs no administrator rights.",
    "",
    `  ${run}                          table of every endpoint`,
    `  ${run} --state established      filter (see --help for all filters)`,
    `  ${run} --format json            JSON records (schema: connection.schema.json)`,
    `  ${run} snapshot --out c.csv --append`,
    "",
    "PowerShell 7.2+: the ProcConn module (folder ProcConn) runs the executable beside it.",
    `  Import-Module ${bundle.platform.startsWith("windows") ? ".\\ProcConn" : "./ProcConn"}`,
    "  Get-ProcConnection | Where-Object State -eq ESTABLISHED",
    "  Get-Help about_ProcConn",
    "",
    runtime === "node" && bundle.platform.startsWith("windows")
      ? "Footprint: on its first Windows API call the program writes its FFI addon (koffi.node,\n" +
        "about 1 MiB) to a private folder %TEMP%\\procconn-koffi-<pid>-<random> and removes it on\n" +
        "exit (or, when Windows still holds it locked, on the next run)."
      : "Footprint: nothing is written to disk unless you ask for a snapshot file.",
    "",
    "SHA256SUMS lists the checksum of every file in this bundle.",
    "",
  ].join("\n");
}

function pack(bundle, entries, target) {
  return new Promise((resolve, reject) => {
    const archive = bundle.archive === "zip"
      ? new ZipArchive({ zlib: { level: 9 } })
      : new TarArchive({ gzip: true, gzipOptions: { level: 9 } });
    const out = createWriteStream(target);
    out.on("close", resolve);
    out.on("error", reject);
    archive.on("error", reject);
    archive.on("warning", reject);
    archive.pipe(out);
    for (const { name, bytes, mode } of entries) archive.append(Buffer.from(bytes), { name, mode });
    archive.finalize();
  });
}

/**
 * Builds both bundles.
 *
 * @param {string[]} argv Arguments after the script name.
 * @returns {Promise<number>} Exit code.
 */
export async function main(argv) {
  let dist;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { dist: { type: "string", default: join(ROOT, "dist") } },
      strict: true,
    });
    dist = values.dist;
  } catch (err) {
    const message = /** @type {Error} */ (err).message;
    process.stderr.write(`release: ${message}: usage: node scripts/release.mjs [--dist DIR]\n`);
    return 2;
  }
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  const schema = readFileSync(join(ROOT, "schema/connection.schema.json"));
  const archives = [];
  for (const bundle of BUNDLES) {
    const found = bundle.candidates.find(([file]) => existsSync(join(dist, file)));
    if (!found) {
      const names = bundle.candidates.map(([file]) => file).join(" or ");
      process.stderr.write(
        `release: no ${bundle.platform} executable in ${dist} (looked for ${names}): ` +
          "build it with `deno task compile` or `npm run build:exe`\n",
      );
      return 1;
    }
    const [file, runtime] = found;
    const folder = `procconn-${version}-${bundle.platform}`;
    const files = [
      { name: bundle.exe, bytes: readFileSync(join(dist, file)), mode: 0o755 },
      { name: "connection.schema.json", bytes: schema, mode: 0o644 },
      { name: "README.txt", bytes: Buffer.from(readme(version, bundle, runtime)), mode: 0o644 },
      ...moduleFiles(),
    ];
    files.push({ name: "SHA256SUMS", bytes: Buffer.from(checksumLines(files)), mode: 0o644 });
    const target = join(dist, `${folder}.${bundle.archive}`);
    const partial = `${target}.partial`;
    try {
      await pack(bundle, files.map((f) => ({ ...f, name: `${folder}/${f.name}` })), partial);
      renameSync(partial, target);
    } finally {
      rmSync(partial, { force: true });
    }
    archives.push({ name: basename(target), bytes: readFileSync(target) });
    process.stdout.write(`release: ${target} (${file}, ${runtime})\n`);
  }
  writeFileSync(join(dist, "SHA256SUMS"), checksumLines(archives));
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
