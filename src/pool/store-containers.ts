// The pool's containers table, mirrored in memory: the pool reads it on
// every dispatch and reconcile, and it changes only through the methods
// below (each writes the row, then the mirror). A container's count of
// running inputs is not written: it changes with every input started and
// ended, and a restarted pool counts it again from the running inputs it
// loads. Only a container becoming idle is written (when, for the
// scale-down window), and at most once per IDLE_WRITE_INTERVAL_MS.
import type { ContainerRow, ContainerState } from "./store-schema";

/**
 * A container busy one input at a time becomes idle after every input: a
 * statement and a page on each call's commit. So when it became idle is
 * written only once this long has passed since the time written; a
 * restarted pool may then count a container idle up to this much longer
 * than it was, and stop it that much sooner than its scale-down window.
 */
export const IDLE_WRITE_INTERVAL_MS = 1_000;

export class ContainerStore {
  private mirror: Map<string, ContainerRow> | null = null;
  /** Each container's idle_since as written (the mirror's may be newer). */
  private readonly writtenIdleSince = new Map<string, number | null>();

  /** `runningCounts` gives each container's running inputs, as the store holds them (read once, when the mirror loads). */
  constructor(
    private readonly sql: SqlStorage,
    private readonly runningCounts: () => Map<string, number>,
  ) {}

  add(c: { id: string; deploymentId: string; secret: string; now: number }): void {
    this.sql.exec(
      "INSERT INTO containers (id, state, deployment_id, secret, started_at) VALUES (?, 'starting', ?, ?, ?)",
      c.id,
      c.deploymentId,
      c.secret,
      c.now,
    );
    this.rows().set(c.id, {
      id: c.id,
      state: "starting",
      deploymentId: c.deploymentId,
      secret: c.secret,
      startedAt: c.now,
      idleSince: null,
      running: 0,
    });
  }
  /** In start order, oldest first; copies, so callers cannot change the pool's view. */
  all(): ContainerRow[] {
    return [...this.rows().values()].map((c) => ({ ...c })).sort((a, b) => a.startedAt - b.startedAt);
  }
  /**
   * The containers table, mirrored in memory: the pool reads it on every
   * dispatch and reconcile, and it changes only through the methods below
   * (each writes the row, then the mirror).
   */
  private rows(): Map<string, ContainerRow> {
    if (this.mirror) return this.mirror;
    const counts = this.runningCounts();
    const rows = this.sql
      .exec<Record<string, SqlStorageValue>>("SELECT id, state, deployment_id, secret, started_at, idle_since FROM containers")
      .toArray()
      .map((r) => {
        const running = counts.get(r.id as string) ?? 0;
        this.writtenIdleSince.set(r.id as string, (r.idle_since as number | null) ?? null);
        return {
          id: r.id as string,
          state: r.state as ContainerState,
          deploymentId: r.deployment_id as string,
          secret: r.secret as string,
          startedAt: r.started_at as number,
          // Written when it last became idle; busy since, if it runs inputs now.
          idleSince: running > 0 ? null : ((r.idle_since as number | null) ?? null),
          running,
        };
      });
    this.mirror = new Map(rows.map((c) => [c.id, c]));
    return this.mirror;
  }
  setSecret(id: string, secret: string): void {
    this.sql.exec("UPDATE containers SET secret = ? WHERE id = ?", secret, id);
    const c = this.rows().get(id);
    if (c) c.secret = secret;
  }
  setState(id: string, state: ContainerState): void {
    this.sql.exec("UPDATE containers SET state = ? WHERE id = ?", state, id);
    const c = this.rows().get(id);
    if (c) c.state = state;
  }
  /** Adjusts a container's running count (in memory only); at zero it becomes idle from `now`, which is written (see IDLE_WRITE_INTERVAL_MS). */
  addRunning(id: string, delta: number, now: number): void {
    const c = this.rows().get(id);
    if (!c) return;
    c.running = Math.max(0, c.running + delta);
    if (c.running > 0) {
      c.idleSince = null;
    } else if (c.idleSince === null) {
      c.idleSince = now;
      const written = this.writtenIdleSince.get(id) ?? null;
      if (written === null || now - written >= IDLE_WRITE_INTERVAL_MS) this.writeIdleSince(id, now);
    }
  }
  private writeIdleSince(id: string, idleSince: number | null): void {
    this.sql.exec("UPDATE containers SET idle_since = ? WHERE id = ?", idleSince, id);
    this.writtenIdleSince.set(id, idleSince);
  }
  markReady(id: string, now: number): void {
    const c = this.rows().get(id);
    const idleSince = c && c.running > 0 ? null : now;
    this.sql.exec("UPDATE containers SET state = 'ready', idle_since = ? WHERE id = ?", idleSince, id);
    this.writtenIdleSince.set(id, idleSince);
    if (c) {
      c.state = "ready";
      c.idleSince = idleSince;
    }
  }
  remove(id: string): void {
    this.sql.exec("DELETE FROM containers WHERE id = ?", id);
    this.rows().delete(id);
    this.writtenIdleSince.delete(id);
  }
  /** When the longest-starting container started, if any is starting. */
  earliestStart(): number | null {
    let earliest: number | null = null;
    for (const c of this.rows().values()) if (c.state === "starting" && (earliest === null || c.startedAt < earliest)) earliest = c.startedAt;
    return earliest;
  }
}
