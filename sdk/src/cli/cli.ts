// `squall …`: finds the command named by the leading words, parses its
// options, runs it, and turns failures into one `error: …` line and exit code 1.
import { GLOBAL_OPTIONS, parse, type OptionSpec } from "./args.js";
import { makeContext, type Command } from "./command.js";
import { processIo, type Io } from "./io.js";
import { deploy } from "./commands/deploy.js";
import { run } from "./commands/run.js";
import { appList, appStop } from "./commands/app.js";
import { functionStats, functionUpdateAutoscaler } from "./commands/function.js";
import { callGet } from "./commands/call.js";
import { tokenCreate } from "./commands/token.js";
import { logs } from "./commands/logs.js";
import { scheduleList } from "./commands/schedule.js";

const COMMANDS: Command[] = [deploy, run, appList, appStop, functionStats, functionUpdateAutoscaler, callGet, tokenCreate, logs, scheduleList];

// Failures the user can act on from the message alone. Matched by name, not
// class: errors raised inside an app bundle come from the bundle's own copy
// of the SDK.
const EXPECTED_ERRORS = new Set([
  "SquallError",
  "NotFoundError",
  "InvalidError",
  "AuthError",
  "ResourceExhaustedError",
  "FunctionTimeoutError",
  "InputCancellation",
  "UserCodeException",
  "RemoteError",
  "OptionsError",
  "CliError",
  "UsageError",
]);

/** Runs one CLI invocation; returns the exit code. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  const { command, rest, group } = findCommand(argv);
  if (!command) {
    const wantsHelp = argv.length === 0 || argv.includes("--help") || argv.includes("-h") || argv[0] === "help";
    if (wantsHelp || group) {
      (wantsHelp ? io.out : io.err)(mainHelp(group));
      return wantsHelp ? 0 : 1;
    }
    io.err(`error: unknown command ${JSON.stringify(argv[0])} (see squall --help)`);
    return 1;
  }
  try {
    const parsed = parse(rest, command.options ?? {}, command.path);
    if (parsed.values.help) {
      io.out(commandHelp(command));
      return 0;
    }
    const [min, max] = command.arity;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      io.err(`error: usage: squall ${command.path} ${command.args}`.trimEnd() + ` (see squall ${command.path} --help)`);
      return 1;
    }
    return (await command.run(makeContext(parsed, io))) ?? 0;
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    if (EXPECTED_ERRORS.has(e.name)) io.err(`error: ${e.message}`);
    else io.err(`error: ${e.message}\n${e.stack ?? ""}`);
    return 1;
  }
}

function findCommand(argv: string[]): { command?: Command; rest: string[]; group?: string } {
  for (const command of COMMANDS) {
    const words = command.path.split(" ");
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  const group = COMMANDS.some((c) => c.path.startsWith(`${argv[0]} `)) ? argv[0] : undefined;
  return { rest: argv, group };
}

function mainHelp(group?: string): string {
  const shown = COMMANDS.filter((c) => !group || c.path.startsWith(`${group} `));
  const usage = shown.map((c) => `squall ${c.path} ${c.args}`.trimEnd());
  const width = Math.max(...usage.map((u) => u.length));
  return [
    group ? `usage: squall ${group} <command>` : "squall: deploy TypeScript functions to Cloudflare and call them at scale",
    "",
    "commands:",
    ...shown.map((c, i) => `  ${usage[i].padEnd(width)}  ${c.summary}`),
    "",
    "options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Run `squall COMMAND --help` for a command's options.",
  ].join("\n");
}

function commandHelp(c: Command): string {
  const own = optionLines(c.options ?? {});
  return [
    `usage: squall ${c.path} ${c.args}`.trimEnd(),
    "",
    c.summary,
    ...(own.length ? ["", "options:", ...own] : []),
    "",
    "global options:",
    ...optionLines(GLOBAL_OPTIONS),
  ].join("\n");
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const flags = Object.entries(options).map(([name, spec]) => `--${name}${spec.value ? ` ${spec.value}` : ""}`);
  const width = Math.max(0, ...flags.map((f) => f.length));
  return Object.values(options).map((spec, i) => `  ${flags[i].padEnd(width)}  ${spec.help}`);
}
