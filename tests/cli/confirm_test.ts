import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseArgs, UsageError } from "../../cli/args.ts";
import { type Asker, confirmChanges, ENABLE_STATS_QUESTION } from "../../cli/_confirm.ts";

/** A terminal that answers `answer`, or none when `answer` is undefined; records the questions. */
function fakeTerminal(answer?: string | null): Asker & { questions: string[] } {
  const questions: string[] = [];
  return {
    questions,
    canAsk: () => answer !== undefined,
    ask(question) {
      questions.push(question);
      return Promise.resolve(answer ?? null);
    },
  };
}

describe("confirmChanges", () => {
  it("asks on Windows before --enable-stats switches statistics on, and goes on at yes", async () => {
    for (const answer of ["y", "Y", "yes", " YES \n"]) {
      const terminal = fakeTerminal(answer);
      await confirmChanges(parseArgs(["--enable-stats"]), "windows", terminal);
      assert.deepEqual(terminal.questions, [ENABLE_STATS_QUESTION]);
    }
  });

  it("stops with a runtime error at any other answer, or at the end of input", async () => {
    for (const answer of ["", "n", "no", "yess", null]) {
      await assert.rejects(
        confirmChanges(parseArgs(["--enable-stats"]), "windows", fakeTerminal(answer)),
        (err: Error) => {
          assert.equal(err instanceof UsageError, false);
          assert.equal(
            err.message,
            "--enable-stats was not confirmed: nothing was switched on, and nothing was listed",
          );
          return true;
        },
      );
    }
  });

  it("without a terminal to ask on, --yes is needed (a usage error names it)", async () => {
    const none = fakeTerminal();
    await assert.rejects(
      confirmChanges(parseArgs(["snapshot", "--out", "x.csv", "--enable-stats"]), "windows", none),
      (err: Error) =>
        err instanceof UsageError && /no terminal can ask first: add --yes/.test(err.message),
    );
    await confirmChanges(parseArgs(["--enable-stats", "--yes"]), "windows", none);
    assert.deepEqual(none.questions, []);
  });

  it("asks nothing where nothing changes: --stats alone, or Linux (its counters are always on)", async () => {
    const terminal = fakeTerminal("n");
    await confirmChanges(parseArgs(["--stats"]), "windows", terminal);
    await confirmChanges(parseArgs(["--enable-stats"]), "linux", terminal);
    assert.deepEqual(terminal.questions, []);
  });
});

// The real terminal: `script` gives the child a pseudo-terminal and types what it reads.
const ASK_CHILD = fileURLToPath(new URL("./_ask_child.ts", import.meta.url));
const hasScript = new Deno.Command("sh", { args: ["-c", "command -v script"] }).outputSync()
  .success;

describe("the question on a real terminal", () => {
  const run = async (typed: string) => {
    const child = new Deno.Command("script", {
      args: ["-qec", `'${Deno.execPath()}' run -A '${ASK_CHILD}'`, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(typed));
    await writer.close();
    const out = await child.output();
    return { code: out.code, text: new TextDecoder().decode(out.stdout).replaceAll("\r", "") };
  };

  it("is written out, and the typed answer is read", {
    skip: Deno.build.os !== "linux" || !hasScript ? "needs Linux and script(1)" : false,
  }, async () => {
    const yes = await run("y\n");
    assert.equal(yes.code, 0, yes.text);
    assert.ok(yes.text.includes(ENABLE_STATS_QUESTION), yes.text);
    assert.match(yes.text, /\nconfirmed\n/);
    const no = await run("n\n");
    assert.equal(no.code, 1, no.text);
    assert.match(no.text, /not confirmed/);
  });
});
