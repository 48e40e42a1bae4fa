// Quick checks of the call routes' bodies. A map sends every input through
// these routes, and zod's generic parse cost more per input than the rest of
// the Worker's work on it (workerd allows no code generation, so zod walks
// each field of each input). These checks accept only what the zod schemas in
// wire.ts accept and return what they would return; a body they do not vouch
// for goes to its schema, which decides and words the 400.
import { MAX_INPUT_ARGS_BYTES, type CreateCallRequest, type InputItem, type PutInputsRequest } from "../../sdk/src/wire/api";
import { MAX_VARIANT_LENGTH } from "../../sdk/src/wire/variant";
import { ApiError, invalid } from "../control/errors";
import { MAX_INPUTS_PER_REQUEST, MAX_METHOD_LENGTH, MAX_REQUEST_WAIT_MS, REQUEST_ID } from "./wire";

type Fields = Record<string, unknown>;

/** What z.object takes: any object that is not an array. */
function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOptionalString(value: unknown, maxLength: number): value is string | undefined {
  return value === undefined || (typeof value === "string" && value.length <= maxLength);
}

/** A list of inputs (`z.array(InputItem).max(…)`), each rebuilt with only its two fields as zod does; null when any is not well-formed. */
export function quickInputs(value: unknown): InputItem[] | null {
  if (!Array.isArray(value) || value.length > MAX_INPUTS_PER_REQUEST) return null;
  const inputs = new Array<InputItem>(value.length);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (!isFields(item)) return null;
    const { idx, args } = item;
    if (typeof idx !== "number" || !Number.isSafeInteger(idx) || idx < 0 || !(args instanceof Uint8Array)) return null;
    inputs[i] = { idx, args };
  }
  return inputs;
}

/** A PutInputsRequest, or null for the schema to judge. */
export function quickPutInputs(value: unknown): PutInputsRequest | null {
  if (!isFields(value)) return null;
  const { closed, method } = value;
  if (typeof closed !== "boolean" || !isOptionalString(method, MAX_METHOD_LENGTH)) return null;
  const inputs = quickInputs(value.inputs);
  if (inputs === null) return null;
  return method === undefined ? { inputs, closed } : { inputs, closed, method };
}

/** A CreateCallRequest, or null for the schema to judge. */
export function quickCreateCall(value: unknown): CreateCallRequest | null {
  if (!isFields(value)) return null;
  const { kind, method, params, variant, closed, waitMs, requestId } = value;
  if (kind !== "remote" && kind !== "map") return null;
  if (typeof closed !== "boolean" || !isOptionalString(method, MAX_METHOD_LENGTH) || !isOptionalString(variant, MAX_VARIANT_LENGTH)) return null;
  if (params !== undefined && !(params instanceof Uint8Array)) return null;
  if (waitMs !== undefined && !(typeof waitMs === "number" && Number.isInteger(waitMs) && waitMs >= 0 && waitMs <= MAX_REQUEST_WAIT_MS)) return null;
  if (requestId !== undefined && !(typeof requestId === "string" && REQUEST_ID.test(requestId))) return null;
  const inputs = quickInputs(value.inputs);
  if (inputs === null) return null;
  const body: CreateCallRequest = { kind, inputs, closed };
  if (method !== undefined) body.method = method;
  if (params !== undefined) body.params = params;
  if (variant !== undefined) body.variant = variant;
  if (waitMs !== undefined) body.waitMs = waitMs;
  if (requestId !== undefined) body.requestId = requestId;
  return body;
}

// ---- what a schema cannot say about a list of inputs ------------------------

/** Arguments travel inline up to MAX_INPUT_ARGS_BYTES; larger ones are refused with a clear size error rather than truncated. */
function checkArgsSizes(inputs: readonly InputItem[]): void {
  for (const input of inputs) {
    if (input.args.byteLength > MAX_INPUT_ARGS_BYTES) {
      throw new ApiError(
        "PAYLOAD_TOO_LARGE",
        `input ${input.idx}: arguments are ${input.args.byteLength} bytes; the limit is ${MAX_INPUT_ARGS_BYTES} bytes per input`,
      );
    }
  }
}

function checkNoRepeats(inputs: ReadonlyArray<{ idx: number }>): void {
  const seen = new Set<number>();
  for (const input of inputs) {
    if (seen.has(input.idx)) throw invalid(`inputs: idx ${input.idx} appears twice`);
    seen.add(input.idx);
  }
}

function countsUpByOne(inputs: ReadonlyArray<{ idx: number }>): boolean {
  for (let i = 1; i < inputs.length; i++) if (inputs[i].idx !== inputs[i - 1].idx + 1) return false;
  return true;
}

/**
 * A call's inputs are numbered 0, 1, 2, … and sent in that order, so a pool
 * can tell a resent batch (idx below what it has) from a new one.
 */
export function checkInputOrder(inputs: ReadonlyArray<{ idx: number }>): void {
  for (let i = 1; i < inputs.length; i++) {
    if (inputs[i].idx !== inputs[i - 1].idx + 1) {
      throw invalid(`inputs: idx must count up by one within a request (idx ${inputs[i].idx} follows idx ${inputs[i - 1].idx})`);
    }
  }
}

/** Spawned inputs (one call each): sizes, and no idx twice. */
export function checkInputSizes(inputs: readonly InputItem[]): void {
  checkArgsSizes(inputs);
  checkNoRepeats(inputs);
}

/**
 * A call's inputs: checkInputSizes, then checkInputOrder. Inputs that count
 * up by one cannot repeat an idx, so only a list that does not pays for the set.
 */
export function checkCallInputs(inputs: readonly InputItem[]): void {
  checkArgsSizes(inputs);
  if (countsUpByOne(inputs)) return;
  checkNoRepeats(inputs);
  checkInputOrder(inputs);
}
