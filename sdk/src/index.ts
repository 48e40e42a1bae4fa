// The `squall` package: define apps, deploy them with the CLI, call them from anywhere.
// Everything `squall/client` offers (client-entry.ts), plus what needs Node.
export * from "./client-entry.js";
export { App, type FunctionOptions } from "./app.js";
export { Cron, Period, type PeriodUnits } from "./schedule.js";
// In Node a Client with no url or token finds them in the environment or ~/.squall.toml (a Worker imports squall/client, which never loads this).
import "./config.js";
// In Node, requests go through node:http rather than fetch (a fraction of the CPU per request).
import "./node-transport.js";
// In Node, `.remote()` calls go over a WebSocket kept open to each pool (channel.ts).
import "./node-channel.js";
export type { AdaptiveScaling, StartsHeldBack } from "./wire/api.js";
export type { AutoscalerSettings, AutoscalerUpdate, ScaledownWindow, RetryPolicy, ConcurrencyOptions, ScalingScheduleEntry } from "./wire/options.js";
export type { VariantOptions } from "./wire/variant.js";
