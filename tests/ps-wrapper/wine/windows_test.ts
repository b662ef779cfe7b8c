// Runs the ProcConn module's Windows Pester tests with the Windows PowerShell host, as Windows
// code under Wine (started by tests/ps-wrapper/wine.sh through the Wine tier). The module finds
// the checkout and runs its engine with this deno.exe, which is put on the PATH.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const CACHE = join(ROOT, ".cache", "ps-windows");

Deno.test({
  name: "the ProcConn module under Windows PowerShell (Pester, Wine)",
  ignore: Deno.build.os !== "windows",
  async fn() {
    const pwsh = join(CACHE, "host", "pwsh.exe");
    const run = await new Deno.Command(pwsh, {
      args: [
        join(ROOT, "tests", "ps-wrapper", "run.ps1"),
        join(ROOT, "tests", "ps-wrapper", "wine", "Windows.Tests.ps1"),
      ],
      env: {
        PROCCONN_PESTER: join(CACHE, "pester", "Pester.psd1"),
        PATH: `${dirname(Deno.execPath())};${Deno.env.get("PATH") ?? ""}`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    const stderr = new TextDecoder().decode(run.stderr);
    console.log(stdout);
    assert.equal(run.code, 0, `Pester under Windows PowerShell failed:\n${stderr}`);
    const summary = /^ok \| (\d+) passed \| 0 failed$/m.exec(stdout);
    assert.ok(summary && Number(summary[1]) >= 8, `no passing summary in:\n${stdout}`);
  },
});
