// The watch memory bench runs the real watch loop against a scripted backend; a short run checks
// that the backend's rows still pass the record schema and that the report comes out.
import assert from "node:assert/strict";

Deno.test("watch_memory.ts runs a short simulated hour and reports RSS and heap", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./watch_memory.ts", import.meta.url).pathname,
      "--refreshes",
      "20",
      "--connections",
      "300",
      "--processes",
      "10",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, stderr);
  assert.equal(stderr, "");
  assert.match(stdout, /^RSS at start \(after refresh 1\): [\d.]+ MB; at end: [\d.]+ MB$/m);
  assert.match(stdout, /^Heap growth: /m);
});
