// One row of a pool's recent calls, as the dashboard's data route sends it and
// its browser script reads it. Types only: the browser script (checked
// against the DOM, without the Worker's types) imports it too.
import type { OutputStatus } from "../../sdk/src/wire/api";

export interface RecentCall {
  callId: string;
  idx: number;
  status: OutputStatus;
  containerId: string | null;
  finishedAt: number;
  /** From the input's start on a container to its output; null if it never started. */
  durationMs: number | null;
  error: { name: string; message: string } | null;
}
