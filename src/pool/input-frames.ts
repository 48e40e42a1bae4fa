// A pool's `inputs` frame to a runner (sdk/src/wire/protocol.ts), written
// straight into one buffer (cbor-writer.ts): the bytes cbor-x writes for
// { t: "inputs", inputs: [{ id, args, method? }] }, without its walk over
// every field of every input. An input's args are CBOR already; the frame
// only wraps them. A method is written only when the input has one.
import { CborWriter, headSize, isAscii, isPlainBytes, isUint32, keyBytes } from "../../sdk/src/wire/cbor-writer";
import { encode } from "../../sdk/src/wire/serialization";

export interface FrameInput {
  id: number;
  method: string | null;
  args: Uint8Array;
}

/** Each key as CBOR text; "inputs" is also the frame's type, `t`. */
const KEY = { t: keyBytes("t"), inputs: keyBytes("inputs"), id: keyBytes("id"), args: keyBytes("args"), method: keyBytes("method") };

/** The frame's CBOR: written here, or by cbor-x for an input outside what this writes (an id past 2^32, a method beyond ASCII, args not a plain Uint8Array). */
export function inputsFrame(inputs: readonly FrameInput[]): Uint8Array {
  return writeInputsFrame(inputs) ?? encode({ t: "inputs", inputs: inputs.map((i) => ({ id: i.id, method: i.method ?? undefined, args: i.args })) });
}

function writeInputsFrame(inputs: readonly FrameInput[]): Uint8Array | null {
  let size = 3 + KEY.t.length + 2 * KEY.inputs.length + headSize(inputs.length);
  for (const { id, method, args } of inputs) {
    if (!isUint32(id) || !isPlainBytes(args) || (method !== null && !isAscii(method))) return null;
    size += 3 + KEY.id.length + headSize(id) + KEY.args.length + 2 + headSize(args.byteLength) + args.byteLength;
    if (method !== null) size += KEY.method.length + headSize(method.length) + method.length;
  }
  const w = new CborWriter(size);
  w.map16(2);
  w.bytes(KEY.t);
  w.bytes(KEY.inputs);
  w.bytes(KEY.inputs);
  w.head(4, inputs.length);
  for (const { id, method, args } of inputs) {
    w.map16(method === null ? 2 : 3);
    w.bytes(KEY.id);
    w.head(0, id);
    if (method !== null) {
      w.bytes(KEY.method);
      w.text(method);
    }
    w.bytes(KEY.args);
    w.taggedBytes(args);
  }
  return w.out;
}
