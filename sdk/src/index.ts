// The `squall` package: define apps, deploy them with the CLI, call them from anywhere.
export { App, type FunctionOptions } from "./app.js";
export { Cron, Period, type PeriodUnits } from "./schedule.js";
export { Client, type ClientOptions, type UnknownClass } from "./client.js";
export type { ServiceBinding } from "./connection.js";
// In Node a Client with no url or token finds them in the environment or ~/.squall.toml (a Worker imports squall/client, which never loads this).
import "./config.js";
// In Node, requests go through node:http rather than fetch (a fraction of the CPU per request).
import "./node-transport.js";
export { FunctionCall, type GetOptions } from "./function-call.js";
export type { FunctionHandle, MapOptionsReturningExceptions } from "./function.js";
export type { MapStream, MapOptions, Inputs } from "./map.js";
export { failedInputIndex } from "./map.js";
export type { ErrorClass } from "./remote-errors.js";
export type { ClsHandle, ClsInstance, MethodHandles, PoolControls } from "./cls.js";
export {
  SquallError,
  NotFoundError,
  InvalidError,
  AuthError,
  ResourceExhaustedError,
  FunctionTimeoutError,
  InputCancellation,
  UserCodeException,
  RemoteError,
} from "./errors.js";
export type { FunctionStats, AdaptiveScaling, StartsHeldBack } from "./wire/api.js";
export type { AutoscalerSettings, AutoscalerUpdate, ScaledownWindow, RetryPolicy, ConcurrencyOptions, ScalingScheduleEntry } from "./wire/options.js";
export type { VariantOptions } from "./wire/variant.js";
