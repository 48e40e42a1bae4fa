// The `squall` binary.
import { runCli } from "./cli.js";

const code = await runCli(process.argv.slice(2));
// Exit explicitly: an imported app (or its local entrypoint) may leave timers or sockets open.
process.exit(code);
