// The HTTP API between the SDK/CLI and the Worker (docs/architecture.md "The wire contract"). JSON for
// control routes; CBOR (content type application/cbor) for calls, whose
// arguments and results are opaque CBOR bytes the platform never decodes.
import type { FunctionOptionsWire, AutoscalerSettings, AutoscalerUpdate } from "./options.js";
import type { SerializedError } from "./serialization.js";

export const CBOR_CONTENT_TYPE = "application/cbor";

/**
 * One input's serialized arguments travel inline up to this size. The pool
 * stores each input as one SQLite value, and Durable Object SQLite caps a
 * value at 2 MB; larger data should be passed by reference (a URL, an R2 key).
 */
export const MAX_INPUT_ARGS_BYTES = 2_000_000;

export type ErrorCode =
  | "INVALID_ARGUMENT" // 400
  | "UNAUTHENTICATED" // 401
  | "NOT_FOUND" // 404
  | "CONFLICT" // 409
  | "PAYLOAD_TOO_LARGE" // 413
  | "UNSUPPORTED_MEDIA_TYPE" // 415
  | "RESOURCE_EXHAUSTED" // 429, with Retry-After
  | "INTERNAL" // 500
  | "UNAVAILABLE"; // 503

export interface ErrorBody {
  error: { code: ErrorCode; message: string; retryAfterMs?: number };
}

/** GET /v1/health */
export interface HealthResponse {
  ok: boolean;
  version: string;
  /** Set by the local platform's launcher, which checks that it is its own Worker that answers. */
  platformId?: string;
}

// ---- Workspaces and tokens ----------------------------------------------

/** POST /v1/workspaces (admin secret) */
export interface CreateWorkspaceRequest {
  name: string;
}

/** POST /v1/workspaces (admin secret) and POST /v1/tokens (a workspace token). */
export interface CreateTokenResponse {
  workspaceId: string;
  tokenId: string;
  token: string;
}

// ---- Deploy ---------------------------------------------------------------

export interface FunctionManifest {
  /** The function's (or class's) name within the app. */
  name: string;
  kind: "function" | "class";
  options: FunctionOptionsWire;
  /** Method names, for classes. */
  methods?: string[];
}

export interface AppManifest {
  name: string;
  functions: FunctionManifest[];
}

/** POST /v1/apps/:app/deployments */
export interface DeployRequest {
  manifest: AppManifest;
  /** The app's ESM bundle (JavaScript source). */
  bundle: string;
  /** An ephemeral app (from `squall run`) is removed when its run ends. */
  ephemeral?: boolean;
}

export interface FunctionInfo {
  functionId: string;
  appName: string;
  name: string;
  kind: "function" | "class";
  methods: string[];
  options: FunctionOptionsWire;
}

export interface DeployResponse {
  appName: string;
  deploymentId: string;
  version: number;
  functions: FunctionInfo[];
}

/** GET /v1/apps */
export interface AppInfo {
  name: string;
  state: "deployed" | "stopped";
  ephemeral: boolean;
  version: number;
  deploymentId: string;
  deployedAt: string;
  functions: string[];
}

export interface ListAppsResponse {
  apps: AppInfo[];
}

/** GET /v1/apps/:app/schedules */
export interface ScheduleInfo {
  function: string;
  /** `run`: the function is spawned on the schedule; `scaling`: a scalingSchedule entry. */
  kind: "run" | "scaling";
  /** The cron expression, or null for a Period. */
  cron: string | null;
  periodSeconds: number | null;
  timezone: string;
  /** Scaling entries: the settings applied at each time. */
  set: AutoscalerUpdate | null;
  /** The last due time fired (ms), or null. */
  lastDueAt: number | null;
  /** The next due times (ms since the epoch). */
  nextRuns: number[];
}

export interface ListSchedulesResponse {
  appName: string;
  schedules: ScheduleInfo[];
}

/** POST /v1/apps/:app/stop */
export interface StopAppResponse {
  appName: string;
  cancelledInputs: number;
  stoppedContainers: number;
}

/** DELETE /v1/apps/:app */
export interface DeleteAppResponse {
  appName: string;
  deleted: boolean;
}

// ---- Calls (CBOR bodies) -------------------------------------------------

export type CallKind = "remote" | "map";

export interface InputItem {
  /** Position of the input within its call (0-based). */
  idx: number;
  /** CBOR of the argument list. */
  args: Uint8Array;
}

/**
 * POST /v1/functions/:functionId/calls — creates a call with its first
 * inputs. For `remote`, the Worker waits up to `waitMs` for the output and
 * returns it inline.
 */
export interface CreateCallRequest {
  kind: CallKind;
  /** For class instances: the method to call. */
  method?: string;
  /** For class instances: CBOR of the constructor params. */
  params?: Uint8Array;
  /** A variant's canonical options (`maxContainers=2,maxInputs=4`, see wire/variant.ts): the call runs in the variant's pool. */
  variant?: string;
  inputs: InputItem[];
  /** True when no more inputs will be added (always for remote). */
  closed: boolean;
  waitMs?: number;
  /**
   * Chosen by the client, one per call it starts (8-64 of A-Z a-z 0-9 - _):
   * the same request sent again after its answer was lost gets the call the
   * first one started, not a second call.
   */
  requestId?: string;
}

export type OutputStatus = "success" | "failure" | "timeout" | "cancelled" | "platform_error";

export interface OutputItem {
  idx: number;
  status: OutputStatus;
  /** CBOR of the return value on success; of a SerializedError otherwise. */
  value: Uint8Array;
}

export interface CreateCallResponse {
  callId: string;
  /** Outputs already available (remote: the result when it came within waitMs). */
  outputs: OutputItem[];
  cursor: number;
  done: boolean;
}

/**
 * POST /v1/functions/:functionId/spawns — one call per input, admitted at
 * once; the inputs run later (through the spawn queue). Read each result with
 * GET /v1/calls/:callId/outputs (a spawned call has one input, idx 0).
 */
export interface SpawnRequest {
  method?: string;
  params?: Uint8Array;
  variant?: string;
  inputs: InputItem[];
}

export interface SpawnResponse {
  callIds: string[];
}

/** POST /v1/calls/:callId/inputs */
export interface PutInputsRequest {
  inputs: InputItem[];
  closed: boolean;
  /** For class instances: the method the inputs call. */
  method?: string;
}

export interface PutInputsResponse {
  admitted: number;
}

/** GET /v1/calls/:callId/outputs?cursor=N&waitMs=M — outputs after the cursor, in completion order. */
export interface GetOutputsResponse {
  outputs: OutputItem[];
  /** Pass back as `cursor` to get the outputs after these. */
  cursor: number;
  /** True when the call is closed and every input has an output at or before `cursor`. */
  done: boolean;
}

/**
 * GET /v1/calls/:callId/stream?from=N&waitMs=M — a generator call's values
 * from index `from` on, in the order yielded; asking from N says every value
 * below N was read (they are dropped, and the generator may run further
 * ahead). With no value ready it waits up to waitMs for one.
 */
export interface GetStreamResponse {
  /** CBOR of each value, in order, starting at `from`. */
  values: Uint8Array[];
  /** Pass back as `from` to read the values after these. */
  next: number;
  /** Once every value is read: the call's end (its return value, or the error it threw). */
  output: OutputItem | null;
}

/** POST /v1/calls/outputs — the results of many single-input calls (spawned or remote) at once, for gather(). */
export interface GetCallResultsRequest {
  /** Up to MAX_CALLS_PER_RESULTS_READ call ids; repeats are read once. */
  callIds: string[];
  /** Wait up to this long for the first result when none is ready yet. */
  waitMs?: number;
}

export interface GetCallResultsResponse {
  /** Each finished call's output; calls not listed here or in `missing` are still running (or did not fit this answer). */
  results: Array<{ callId: string; output: OutputItem }>;
  /** Ids of calls that do not exist in this workspace (or whose results have expired). */
  missing: string[];
}

export const MAX_CALLS_PER_RESULTS_READ = 1_000;

/** POST /v1/calls/:callId/cancel */
export interface CancelCallResponse {
  cancelledInputs: number;
}

// ---- Functions ------------------------------------------------------------
// Routes about one class instance take `?params=<base64url of CBOR params>`.

export interface FunctionStats {
  backlog: number;
  runningInputs: number;
  containers: { starting: number; idle: number; busy: number; total: number };
  autoscaler: AutoscalerSettings;
  /**
   * Where each setting in `autoscaler` comes from. `clamped` (minContainers
   * only): the layer that set it asked for more than maxContainers, so it is
   * held at maxContainers.
   */
  autoscalerSources?: Record<keyof AutoscalerSettings, "declared" | "override" | "schedule" | "clamped">;
  /** Only while scaledownWindowMs is "auto": what the pool has learned and plans. */
  adaptive?: AdaptiveScaling;
  /** Set while the pool starts no containers although it wants some (absent from platforms older than this field). */
  startsHeldBack?: StartsHeldBack | null;
  /** A variant's pool: its canonical options (`maxContainers=2,maxInputs=4`). */
  variant?: string;
  /** A function's own pool: the variants of it that have been called (their canonical options). */
  variants?: string[];
}

/**
 * Why a pool is not starting containers right now: the platform has no room
 * (`capacity`), it failed to start or reach one (`platform_error`; retried
 * with backoff, inputs keep waiting), or containers failed to start
 * `MAX_START_FAILURES` times in a row (`start_failures`; waiting inputs failed).
 */
export interface StartsHeldBack {
  reason: "capacity" | "platform_error" | "start_failures";
  /** The last error, as the platform or the container reported it. */
  message: string;
  /** When starts resume (ms since the epoch). */
  untilMs: number;
}

/** `scaledownWindowMs: "auto"` at work (README "Adaptive scale-down"). */
export interface AdaptiveScaling {
  /**
   * Whether the pool acts on what it learned: the histogram has a rhythm and
   * pre-warming beats the fixed window on it. If not, the pool uses the fixed
   * 60 s window, and `reason` says why.
   */
  representative: boolean;
  /** Why, in words: what was learned, or why it is not used. */
  reason: string;
  /** How long after the pool goes idle a container is kept warm (the fixed window while not representative). */
  keepAliveMs: number;
  /** How long after the pool goes idle one container is started again; null: no pre-warming. */
  prewarmAfterMs: number | null;
  /** While the pool is idle: when the planned pre-warm starts (epoch ms; past once it has); null: none planned. */
  prewarmAtMs: number | null;
  /** Idle intervals recorded (recent ones weigh more, so this may be fractional). */
  samples: number;
}

/** One line of a container's output. */
export interface FunctionLogLine {
  seq: number;
  ts: number;
  containerId: string;
  /** The call the line was written during; null for output outside any input (imports, enter()). */
  callId: string | null;
  stream: string;
  text: string;
}

/** GET /v1/functions/:functionId/logs?after=N&limit=M — the lines after seq N. */
export interface GetLogsResponse {
  lines: FunctionLogLine[];
  /** Pass back as `after` to get the lines after these. */
  cursor: number;
}

/** PATCH /v1/functions/:functionId/autoscaler */
export type UpdateAutoscalerRequest = AutoscalerUpdate;

export type { SerializedError };
