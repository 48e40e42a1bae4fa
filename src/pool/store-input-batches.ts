// The rows of a map's input batches (input-batch.ts): a statement per batch
// per change, never one per input.
import { claimLine, isGone, parseClaims, pendingIn, type BatchClaim, type ClaimedInput, type InputBatch } from "./input-batch";

export class InputBatchTable {
  constructor(private readonly sql: SqlStorage) {}

  /**
   * Every batch, in id order, with its inputs that are claimed and not gone
   * (running where their claim put them) and how many wait: a restarted pool's view.
   */
  load(): Array<{ batch: InputBatch; running: ClaimedInput[]; pending: number }> {
    const out: Array<{ batch: InputBatch; running: ClaimedInput[]; pending: number }> = [];
    for (const [firstId, callId, method, firstIdx, count, next, gone, claims, offsets] of this.sql
      .exec(
        "SELECT b.first_id, call_id, method, first_idx, count, next, gone, claims, offsets FROM input_batches b JOIN input_batch_args a ON a.first_id = b.first_id ORDER BY b.first_id",
      )
      .raw<[number, string, string | null, number, number, number, ArrayBuffer, string, ArrayBuffer]>()) {
      const batch: InputBatch = {
        firstId,
        callId,
        method,
        firstIdx,
        count,
        next,
        gone: new Uint8Array(gone.slice(0)),
        goneCount: 0,
        offsets: new Uint32Array(offsets.slice(0)),
      };
      for (let k = 0; k < count; k++) if (isGone(batch, k)) batch.goneCount++;
      const running: ClaimedInput[] = [];
      for (const claim of parseClaims(claims)) {
        for (let k = claim.start; k < claim.end; k++)
          if (!isGone(batch, k)) running.push({ offset: k, containerId: claim.containerId, deadline: claim.deadline });
      }
      out.push({ batch, running, pending: pendingIn(batch) });
    }
    return out;
  }

  insert(b: InputBatch, packed: Uint8Array): void {
    this.sql.exec(
      "INSERT INTO input_batches (first_id, call_id, method, first_idx, count, next, gone, claims) VALUES (?, ?, ?, ?, ?, 0, ?, '')",
      b.firstId,
      b.callId,
      b.method,
      b.firstIdx,
      b.count,
      b.gone.buffer,
    );
    this.sql.exec("INSERT INTO input_batch_args (first_id, offsets, packed) VALUES (?, ?, ?)", b.firstId, b.offsets.buffer, packed.buffer);
  }

  /** Records a claim (the batch's `next` already moved past it) and returns the claimed inputs' packed arguments, from offset `claim.start`. */
  claim(b: InputBatch, claim: BatchClaim): Uint8Array {
    this.sql.exec("UPDATE input_batches SET next = ?, claims = claims || ? WHERE first_id = ?", b.next, claimLine(claim), b.firstId);
    return this.args(b, claim.start, claim.end);
  }

  /** The packed arguments of inputs `start` up to (not including) `end`. */
  args(b: InputBatch, start: number, end: number): Uint8Array {
    const from = b.offsets[start];
    const length = b.offsets[end] - from;
    if (length === 0) return new Uint8Array(0);
    const [[args]] = [
      ...this.sql.exec("SELECT substr(packed, ?, ?) FROM input_batch_args WHERE first_id = ?", from + 1, length, b.firstId).raw<[ArrayBuffer]>(),
    ];
    return new Uint8Array(args);
  }

  /** Writes the batch's gone bits, or drops the batch once every input is gone. */
  writeGone(b: InputBatch): void {
    if (b.goneCount >= b.count) {
      this.sql.exec("DELETE FROM input_batches WHERE first_id = ?", b.firstId);
      this.sql.exec("DELETE FROM input_batch_args WHERE first_id = ?", b.firstId);
    } else this.sql.exec("UPDATE input_batches SET gone = ? WHERE first_id = ?", b.gone.buffer, b.firstId);
  }

  deleteCall(callId: string): void {
    this.sql.exec("DELETE FROM input_batch_args WHERE first_id IN (SELECT first_id FROM input_batches WHERE call_id = ?)", callId);
    this.sql.exec("DELETE FROM input_batches WHERE call_id = ?", callId);
  }
}
