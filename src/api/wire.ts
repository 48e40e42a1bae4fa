// The zod schema of every request and response body, each checked with
// `satisfies` against its TypeScript type in sdk/src/wire/api.ts (the SDK's
// side of the contract): a field added or retyped on one side and not the
// other fails the type check. Request schemas validate; response schemas
// document (the OpenAPI document at /v1/openapi.json shows both, CBOR bodies
// included).
import { z } from "@hono/zod-openapi";
import type * as wire from "../../sdk/src/wire/api";
import type { AutoscalerSettings, AutoscalerUpdate, FunctionOptionsWire } from "../../sdk/src/wire/options";
import type {
  ChannelCall as ChannelCallWire,
  ChannelGetOutputs as ChannelGetOutputsWire,
  ChannelPutInputs as ChannelPutInputsWire,
} from "../../sdk/src/wire/channel";
import { MAX_CALLS_PER_RESULTS_READ } from "../../sdk/src/wire/api";
import { MAX_VARIANT_LENGTH } from "../../sdk/src/wire/variant";
import { MAX_CALL_ID_LENGTH, Name } from "./schemas";

/** Inputs in one request: the SDK sends batches of up to 500. */
export const MAX_INPUTS_PER_REQUEST = 1_000;
/** The longest a request may ask to wait for an output. */
export const MAX_REQUEST_WAIT_MS = 60_000;
export const MAX_METHOD_LENGTH = 64;
/** A client's id for the call it starts (resent, it finds that call again). */
export const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** CBOR byte strings (arguments, results, class params): opaque to the platform. */
const Bytes = z.instanceof(Uint8Array).openapi({ type: "string", format: "binary", description: "a CBOR byte string" });

/**
 * A function's options are checked field by field by resolveOptions at deploy
 * (its messages name the function and the option); here only their shape.
 */
const OptionsSchema = z
  .custom<FunctionOptionsWire>((v) => typeof v === "object" && v !== null && !Array.isArray(v), "must be an object of options")
  .openapi({ type: "object", description: "the function's options (README: Options)" });

const AutoscalerSettingsSchema = z
  .object({
    minContainers: z.number(),
    maxContainers: z.number().nullable(),
    bufferContainers: z.number(),
    scaledownWindowMs: z.union([z.number(), z.literal("auto")]),
  })
  .openapi("AutoscalerSettings") satisfies z.ZodType<AutoscalerSettings>;

const AutoscalerUpdateSchema = AutoscalerSettingsSchema.partial().openapi("AutoscalerUpdate") satisfies z.ZodType<AutoscalerUpdate>;

// ---- health, workspaces, tokens --------------------------------------------

export const HealthResponse = z
  .object({
    ok: z.boolean(),
    version: z.string(),
    platformId: z.string().optional(),
  })
  .openapi("HealthResponse") satisfies z.ZodType<wire.HealthResponse>;

export const CreateWorkspaceRequest = z
  .object({ name: z.string().min(1).max(64) })
  .openapi("CreateWorkspaceRequest") satisfies z.ZodType<wire.CreateWorkspaceRequest>;

export const CreateTokenResponse = z
  .object({ workspaceId: z.string(), tokenId: z.string(), token: z.string() })
  .openapi("TokenResponse") satisfies z.ZodType<wire.CreateTokenResponse>;

// ---- apps ------------------------------------------------------------------

const FunctionManifestSchema = z.object({
  name: Name,
  kind: z.enum(["function", "class"]),
  options: OptionsSchema,
  methods: z
    .array(z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/, "must be a method name"))
    .max(200)
    .optional(),
}) satisfies z.ZodType<wire.FunctionManifest>;

const AppManifestSchema = z.object({
  name: Name,
  functions: z.array(FunctionManifestSchema).min(1, "an app needs at least one function").max(500),
}) satisfies z.ZodType<wire.AppManifest>;

export const DeployRequest = z
  .object({ manifest: AppManifestSchema, bundle: z.string().min(1), ephemeral: z.boolean().optional() })
  .openapi("DeployRequest") satisfies z.ZodType<wire.DeployRequest>;

export const FunctionInfo = z
  .object({
    functionId: z.string(),
    appName: z.string(),
    name: z.string(),
    kind: z.enum(["function", "class"]),
    methods: z.array(z.string()),
    options: OptionsSchema,
  })
  .openapi("FunctionInfo") satisfies z.ZodType<wire.FunctionInfo>;

export const DeployResponse = z
  .object({ appName: z.string(), deploymentId: z.string(), version: z.number(), functions: z.array(FunctionInfo) })
  .openapi("DeployResponse") satisfies z.ZodType<wire.DeployResponse>;

export const ListAppsResponse = z
  .object({
    apps: z.array(
      z.object({
        name: z.string(),
        state: z.enum(["deployed", "stopped"]),
        ephemeral: z.boolean(),
        version: z.number(),
        deploymentId: z.string(),
        deployedAt: z.string(),
        functions: z.array(z.string()),
      }),
    ),
  })
  .openapi("ListAppsResponse") satisfies z.ZodType<wire.ListAppsResponse>;

export const StopAppResponse = z
  .object({ appName: z.string(), cancelledInputs: z.number(), stoppedContainers: z.number() })
  .openapi("StopAppResponse") satisfies z.ZodType<wire.StopAppResponse>;

export const DeleteAppResponse = z
  .object({ appName: z.string(), deleted: z.boolean() })
  .openapi("DeleteAppResponse") satisfies z.ZodType<wire.DeleteAppResponse>;

export const ListSchedulesResponse = z
  .object({
    appName: z.string(),
    schedules: z.array(
      z.object({
        function: z.string(),
        kind: z.enum(["run", "scaling"]),
        cron: z.string().nullable(),
        periodSeconds: z.number().nullable(),
        timezone: z.string(),
        set: AutoscalerUpdateSchema.nullable(),
        lastDueAt: z.number().nullable(),
        nextRuns: z.array(z.number()),
      }),
    ),
  })
  .openapi("ListSchedulesResponse") satisfies z.ZodType<wire.ListSchedulesResponse>;

// ---- functions ---------------------------------------------------------------

export const InputItem = z.object({
  idx: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  args: Bytes,
}) satisfies z.ZodType<wire.InputItem>;

const OutputItem = z.object({
  idx: z.number(),
  status: z.enum(["success", "failure", "timeout", "cancelled", "platform_error"]),
  value: Bytes,
}) satisfies z.ZodType<wire.OutputItem>;

const Method = z.string().max(MAX_METHOD_LENGTH);
/** Parsed and checked by control/pools.ts (parseVariant), whose messages name the option. */
export const Variant = z.string().max(MAX_VARIANT_LENGTH);

export const CreateCallRequest = z
  .object({
    kind: z.enum(["remote", "map"]),
    method: Method.optional(),
    params: Bytes.optional(),
    variant: Variant.optional(),
    inputs: z.array(InputItem).max(MAX_INPUTS_PER_REQUEST),
    closed: z.boolean(),
    waitMs: z.number().int().min(0).max(MAX_REQUEST_WAIT_MS).optional(),
    requestId: z.string().regex(REQUEST_ID, "must be 8 to 64 letters, digits, - or _").optional(),
  })
  .openapi("CreateCallRequest") satisfies z.ZodType<wire.CreateCallRequest>;

const ChannelFrameId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const ChannelCallId = z.string().max(MAX_CALL_ID_LENGTH);

/** A remote call on a call channel (sdk/src/wire/channel.ts): CreateCallRequest's remote fields, numbered. */
export const ChannelCall = z.object({
  id: ChannelFrameId,
  requestId: z.string().regex(REQUEST_ID, "must be 8 to 64 letters, digits, - or _"),
  method: Method.optional(),
  args: Bytes,
  waitMs: z.number().int().min(0).max(MAX_REQUEST_WAIT_MS),
}) satisfies z.ZodType<ChannelCallWire>;

/** A map's inputs on a call channel: PutInputsRequest, numbered, with the call it adds to. */
export const ChannelPutInputs = z.object({
  id: ChannelFrameId,
  op: z.literal("putInputs"),
  callId: ChannelCallId,
  inputs: z.array(InputItem).max(MAX_INPUTS_PER_REQUEST),
  closed: z.boolean(),
  method: Method.optional(),
}) satisfies z.ZodType<ChannelPutInputsWire>;

/** A read of a map's outputs on a call channel: GET outputs' query, numbered, with the call it reads. */
export const ChannelGetOutputs = z.object({
  id: ChannelFrameId,
  op: z.literal("getOutputs"),
  callId: ChannelCallId,
  cursor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  waitMs: z.number().int().min(0).max(MAX_REQUEST_WAIT_MS),
}) satisfies z.ZodType<ChannelGetOutputsWire>;

export const CreateCallResponse = z
  .object({ callId: z.string(), outputs: z.array(OutputItem), cursor: z.number(), done: z.boolean() })
  .openapi("CreateCallResponse") satisfies z.ZodType<wire.CreateCallResponse>;

export const SpawnRequest = z
  .object({ method: Method.optional(), params: Bytes.optional(), variant: Variant.optional(), inputs: z.array(InputItem).min(1).max(MAX_INPUTS_PER_REQUEST) })
  .openapi("SpawnRequest") satisfies z.ZodType<wire.SpawnRequest>;

export const SpawnResponse = z.object({ callIds: z.array(z.string()) }).openapi("SpawnResponse") satisfies z.ZodType<wire.SpawnResponse>;

/** Checked field by field by checkAutoscalerUpdate, whose messages name the setting and the function. */
export const UpdateAutoscalerRequest = z.record(z.string(), z.unknown()).openapi("UpdateAutoscalerRequest", {
  description: "any of minContainers, maxContainers, bufferContainers, scaledownWindowMs",
});

export const UpdateAutoscalerResponse = AutoscalerSettingsSchema;

export const GetLogsResponse = z
  .object({
    lines: z.array(z.object({ seq: z.number(), ts: z.number(), containerId: z.string(), callId: z.string().nullable(), stream: z.string(), text: z.string() })),
    cursor: z.number(),
  })
  .openapi("GetLogsResponse") satisfies z.ZodType<wire.GetLogsResponse>;

// ---- calls -------------------------------------------------------------------

export const PutInputsRequest = z
  .object({ inputs: z.array(InputItem).max(MAX_INPUTS_PER_REQUEST), closed: z.boolean(), method: Method.optional() })
  .openapi("PutInputsRequest") satisfies z.ZodType<wire.PutInputsRequest>;

export const PutInputsResponse = z.object({ admitted: z.number() }).openapi("PutInputsResponse") satisfies z.ZodType<wire.PutInputsResponse>;

export const GetOutputsResponse = z
  .object({ outputs: z.array(OutputItem), cursor: z.number(), done: z.boolean() })
  .openapi("GetOutputsResponse") satisfies z.ZodType<wire.GetOutputsResponse>;

export const GetStreamResponse = z
  .object({ values: z.array(Bytes), next: z.number(), output: OutputItem.nullable() })
  .openapi("GetStreamResponse") satisfies z.ZodType<wire.GetStreamResponse>;

export const GetCallResultsRequest = z
  .object({
    callIds: z.array(z.string().max(200)).min(1).max(MAX_CALLS_PER_RESULTS_READ),
    waitMs: z.number().int().min(0).max(MAX_REQUEST_WAIT_MS).optional(),
  })
  .openapi("GetCallResultsRequest") satisfies z.ZodType<wire.GetCallResultsRequest>;

export const GetCallResultsResponse = z
  .object({ results: z.array(z.object({ callId: z.string(), output: OutputItem })), missing: z.array(z.string()) })
  .openapi("GetCallResultsResponse") satisfies z.ZodType<wire.GetCallResultsResponse>;

export const CancelCallResponse = z.object({ cancelledInputs: z.number() }).openapi("CancelCallResponse") satisfies z.ZodType<wire.CancelCallResponse>;
