// Run by confirm_test.ts on a pseudo-terminal: asks --enable-stats's question as on Windows, and
// prints "confirmed" or the error.
import { parseArgs } from "../../cli/args.ts";
import { confirmChanges } from "../../cli/_confirm.ts";

try {
  await confirmChanges(parseArgs(["--enable-stats"]), "windows");
  console.log("confirmed");
} catch (err) {
  console.log((err as Error).message);
  Deno.exit(1);
}
