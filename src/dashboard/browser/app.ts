// The app page's script (no CDN, no framework). It polls
// /dashboard/api/apps/:app, fills in the numbers, draws each pool's chart as
// SVG, lists recent calls and sends autoscaler changes. Every value goes into
// the page as text (textContent), never as HTML.
//
// Type-checked against the DOM (tsconfig.json beside it), not the Worker's
// types. The Worker serves this one function's source, as its bundler
// compiled it (../script.ts), so it must not use anything from outside its
// own body: no imports at runtime, only types.
import type { AdaptiveScaling, FunctionStats, StartsHeldBack } from "../../../sdk/src/wire/api";
import type { RecentCall } from "../recent-call";

/** What the page reads of GET /dashboard/api/apps/:app (`AppOverview` in ../api.ts). */
interface Overview {
  now: number;
  pools: PoolData[];
}
interface PoolData {
  key: string;
  stats: FunctionStats | null;
  inputsPerSecond: number;
  failedLastHour: number;
  metrics: MetricPoint[];
  recent: RecentCall[];
}
interface MetricPoint {
  ts: number;
  starting: number;
  idle: number;
  busy: number;
  backlog: number;
}
interface ErrorBody {
  error?: { message: string };
}
/** One pool's card on the page and what it has seen so far. */
interface Card {
  el: HTMLElement;
  points: Map<number, MetricPoint>;
  stats: FunctionStats | null;
}
type Setting = "minContainers" | "maxContainers" | "bufferContainers" | "scaledownWindowMs";

export function dashboardApp(): void {
  const POLL_MS = 1500;
  // Metrics are asked for again from a little before the last answer, in case a point landed late.
  const OVERLAP_MS = 15000;
  const HOUR_MS = 3600000;
  const SETTINGS: readonly Setting[] = ["minContainers", "maxContainers", "bufferContainers", "scaledownWindowMs"];
  const SVG = "http://www.w3.org/2000/svg";
  // The chart is drawn at the size it is shown (height fixed by the stylesheet), so its text stays legible on a phone.
  const H = 180,
    LEFT = 34,
    RIGHT = 40,
    TOP = 12,
    BOTTOM = 20;

  // The page is rendered with every element this script looks up; one missing is a bug in pages.tsx.
  function find<E extends Element = HTMLElement>(root: ParentNode, selector: string): E {
    const found = root.querySelector<E>(selector);
    if (!found) throw new Error("the page has no " + selector);
    return found;
  }

  const appName = document.body.dataset.app ?? "";
  const status = find(document, "[data-status]");
  /** By pool key. */
  const cards = new Map<string, Card>();
  for (const el of document.querySelectorAll<HTMLElement>("[data-pool]")) cards.set(el.dataset.pool ?? "", { el, points: new Map(), stats: null });
  let since = 0;
  let serverNow = Date.now();
  let rangeMs = Number(find(document, '[data-range][aria-pressed="true"]').dataset.range);
  let timer: ReturnType<typeof setTimeout> | undefined;

  let polling = false;
  let pollAgain = false;

  async function poll(): Promise<void> {
    // One request at a time: a save or a returning tab asks for a refresh, which runs once the current one ends.
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    clearTimeout(timer);
    try {
      const res = await fetch("/dashboard/api/apps/" + encodeURIComponent(appName) + "?since=" + since, { headers: { accept: "application/json" } });
      if (res.status === 401) {
        location.href = "/";
        return;
      }
      const body = (await res.json()) as Overview & ErrorBody;
      if (!res.ok) throw new Error(body.error ? body.error.message : "HTTP " + res.status);
      // A deploy added or removed a function, or a class got a new instance: render the page anew.
      if (body.pools.length !== cards.size || body.pools.some((p) => !cards.has(p.key))) {
        location.reload();
        return;
      }
      serverNow = body.now;
      since = body.now - OVERLAP_MS;
      for (const p of body.pools) update(cards.get(p.key)!, p);
      status.textContent = "live · updated " + new Date(body.now).toLocaleTimeString();
    } catch (err) {
      status.textContent = "could not refresh: " + (err instanceof Error ? err.message : String(err));
    } finally {
      polling = false;
    }
    if (pollAgain) {
      pollAgain = false;
      return poll();
    }
    if (!document.hidden) timer = setTimeout(poll, POLL_MS);
  }

  function update(card: Card, p: PoolData): void {
    for (const m of p.metrics) card.points.set(m.ts, m);
    for (const ts of card.points.keys()) if (ts < serverNow - HOUR_MS) card.points.delete(ts);
    const s = p.stats;
    card.stats = s;
    const el = card.el;
    setField(el, "containers", s ? s.containers.total : "–");
    setField(
      el,
      "containers-detail",
      s ? s.containers.starting + " starting · " + s.containers.idle + " idle · " + s.containers.busy + " busy" : "not started yet",
    );
    setField(el, "backlog", s ? s.backlog : "–");
    setField(el, "running", s ? s.runningInputs : "–");
    setField(el, "rate", p.inputsPerSecond < 10 ? p.inputsPerSecond.toFixed(1) : p.inputsPerSecond.toFixed(0));
    setField(el, "errors", p.failedLastHour);
    setField(el, "held-back", s && s.startsHeldBack ? heldBackText(s.startsHeldBack) : "");
    if (s) {
      for (const k of SETTINGS) {
        setField(el, "setting-" + k, s.autoscaler[k] === null ? "none" : s.autoscaler[k]);
        const source = find(el, '[data-source="' + k + '"]');
        const origin = s.autoscalerSources ? s.autoscalerSources[k] : "declared";
        source.textContent = origin;
        source.className = "source " + origin;
      }
    }
    const adaptive = find(el, "[data-adaptive]");
    adaptive.hidden = !(s && s.adaptive);
    if (s && s.adaptive) adaptive.textContent = describeAdaptive(s.adaptive);
    drawChart(card);
    renderRecent(find(el, "[data-recent]"), p.recent);
  }

  // scaledownWindowMs "auto": the learned keep-alive, the next pre-warm, and why.
  function describeAdaptive(a: AdaptiveScaling): string {
    const secs = (ms: number): string => (ms / 1000).toFixed(1) + " s";
    const parts = [(a.representative ? "learned keep-alive " : "fixed window ") + secs(a.keepAliveMs)];
    if (a.prewarmAtMs !== null) {
      const inMs = a.prewarmAtMs - serverNow;
      parts.push("next pre-warm " + new Date(a.prewarmAtMs).toLocaleTimeString() + (inMs > 0 ? " (in " + secs(inMs) + ")" : " (started)"));
    } else if (a.prewarmAfterMs !== null) {
      parts.push("pre-warms " + secs(a.prewarmAfterMs) + " after going idle");
    } else {
      parts.push("no pre-warm");
    }
    return "auto: " + parts.join(" · ") + ". Why: " + a.reason + ".";
  }

  const HELD_BACK: Record<StartsHeldBack["reason"], string> = {
    capacity: "no room for containers on the platform",
    platform_error: "the platform failed to start a container",
    start_failures: "containers failed to start repeatedly",
  };

  function heldBackText(h: StartsHeldBack): string {
    const inSeconds = Math.max(0, Math.ceil((h.untilMs - serverNow) / 1000));
    return "Starts held back: " + (HELD_BACK[h.reason] || h.reason) + ", next try in " + inSeconds + " s (" + h.message + ")";
  }

  function setField(el: HTMLElement, field: string, value: string | number): void {
    find(el, '[data-field="' + field + '"]').textContent = String(value);
  }

  // ---- chart -----------------------------------------------------------------

  function drawChart(card: Card): void {
    const svg = find<SVGSVGElement>(card.el, "[data-chart]");
    const W = Math.max(svg.clientWidth, LEFT + RIGHT + 100);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    const now = serverNow;
    const start = now - rangeMs;
    const points = [...card.points.values()].sort((a, b) => a.ts - b.ts);
    const inRange = points.filter((p) => p.ts > start && p.ts <= now);
    // The value in effect when the range begins is the last point before it.
    const before = points.filter((p) => p.ts <= start).pop();
    const series = before ? [{ ...before, ts: start }, ...inRange] : inRange;
    const total = (p: MetricPoint): number => p.busy + p.idle + p.starting;
    const maxC = Math.max(1, ...series.map(total));
    const maxB = Math.max(1, ...series.map((p) => p.backlog));
    const x = (ts: number): number => LEFT + ((ts - start) / rangeMs) * (W - LEFT - RIGHT);
    const yOf =
      (max: number) =>
      (v: number): number =>
        H - BOTTOM - (v / max) * (H - TOP - BOTTOM);
    const yC = yOf(maxC),
      yB = yOf(maxB);

    svg.replaceChildren();
    line(svg, LEFT, yC(0), W - RIGHT, yC(0), "grid");
    line(svg, LEFT, yC(maxC), W - RIGHT, yC(maxC), "grid");
    if (series.length) {
      // Stacked: each area's top is the sum of its layer and the ones below it.
      add(svg, "path", { class: "area-starting", d: stepArea(series, total, x, yC, now) });
      add(svg, "path", { class: "area-idle", d: stepArea(series, (p) => p.busy + p.idle, x, yC, now) });
      add(svg, "path", { class: "area-busy", d: stepArea(series, (p) => p.busy, x, yC, now) });
      add(svg, "path", { class: "line-backlog", d: stepLine(series, (p) => p.backlog, x, yB, now) });
    } else {
      text(svg, W / 2, H / 2, "no activity in this range", "middle");
    }
    text(svg, LEFT - 4, yC(maxC) + 4, String(maxC), "end");
    text(svg, LEFT - 4, yC(0) + 4, "0", "end");
    text(svg, W - RIGHT + 4, yB(maxB) + 4, String(maxB), "start");
    text(svg, LEFT, H - 4, "-" + Math.round(rangeMs / 60000) + " min", "start");
    text(svg, W - RIGHT, H - 4, "now", "end");
    svg.dataset.points = String(inRange.length);
  }

  /** Each point's value holds until the next point; the last one until now. */
  type Scale = (v: number) => number;
  type Value = (p: MetricPoint) => number;
  function steps(series: MetricPoint[], value: Value, x: Scale, y: Scale, now: number): string[] {
    const out: string[] = [];
    series.forEach((p, i) => {
      const next = i + 1 < series.length ? series[i + 1].ts : now;
      const v = y(value(p));
      out.push(x(p.ts).toFixed(1) + "," + v.toFixed(1), x(next).toFixed(1) + "," + v.toFixed(1));
    });
    return out;
  }
  function stepLine(series: MetricPoint[], value: Value, x: Scale, y: Scale, now: number): string {
    return "M" + steps(series, value, x, y, now).join("L");
  }
  function stepArea(series: MetricPoint[], value: Value, x: Scale, y: Scale, now: number): string {
    const base = y(0).toFixed(1);
    return "M" + x(series[0].ts).toFixed(1) + "," + base + "L" + steps(series, value, x, y, now).join("L") + "L" + x(now).toFixed(1) + "," + base + "Z";
  }
  function add(svg: SVGSVGElement, tag: string, attrs: Record<string, string | number>): SVGElement {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    svg.appendChild(node);
    return node;
  }
  function line(svg: SVGSVGElement, x1: number, y1: number, x2: number, y2: number, cls: string): void {
    add(svg, "line", { x1, y1, x2, y2, class: cls });
  }
  function text(svg: SVGSVGElement, x: number, y: number, content: string, anchor: "start" | "middle" | "end"): void {
    add(svg, "text", { x, y, "text-anchor": anchor }).textContent = content;
  }

  // ---- recent calls ------------------------------------------------------------

  function renderRecent(tbody: HTMLElement, recent: RecentCall[]): void {
    if (!recent.length) {
      tbody.replaceChildren(row(["no calls yet", "", "", "", "", ""], "none"));
      return;
    }
    tbody.replaceChildren(
      ...recent.map((r) =>
        row(
          [
            new Date(r.finishedAt).toLocaleTimeString(),
            "fc-…" + r.callId.slice(-8) + (r.idx ? " #" + r.idx : ""),
            r.status,
            r.durationMs === null ? "–" : r.durationMs < 1000 ? r.durationMs + " ms" : (r.durationMs / 1000).toFixed(1) + " s",
            r.containerId || "–",
            r.error ? r.error.name + ": " + r.error.message : "",
          ],
          r.status,
          r.callId,
        ),
      ),
    );
  }
  function row(cells: string[], state: string, callId?: string): HTMLTableRowElement {
    const tr = document.createElement("tr");
    tr.className = "status-" + state;
    const classes = ["", "call", "status", "", "", "error"];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      td.textContent = c;
      if (classes[i]) td.className = classes[i];
      if (i === 1 && callId) td.title = callId;
      tr.appendChild(td);
    });
    return tr;
  }

  // ---- autoscaler form ---------------------------------------------------------------

  // Opening the form fills it with the settings in effect.
  document.addEventListener(
    "toggle",
    (ev) => {
      if (!(ev.target instanceof HTMLDetailsElement) || !ev.target.open) return;
      const form = ev.target.querySelector<HTMLFormElement>("[data-autoscaler-form]");
      if (!form) return;
      const card = poolCardOf(form);
      if (!card.stats) return;
      for (const k of SETTINGS) settingInput(form, k).value = card.stats.autoscaler[k] === null ? "" : String(card.stats.autoscaler[k]);
    },
    true,
  );
  function poolCardOf(form: HTMLFormElement): Card {
    return cards.get(form.closest<HTMLElement>("[data-pool]")?.dataset.pool ?? "")!;
  }
  function settingInput(form: HTMLFormElement, name: Setting): HTMLInputElement {
    return form.elements.namedItem(name) as HTMLInputElement;
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target instanceof Element ? ev.target.closest<HTMLFormElement>("[data-autoscaler-form]") : null;
    if (!form) return;
    ev.preventDefault();
    const el = form.closest<HTMLElement>("[data-pool]")!;
    const card = poolCardOf(form);
    const update: Partial<Record<Setting, number | string | null>> = {};
    for (const k of SETTINGS) {
      const raw = settingInput(form, k).value.trim();
      if (raw === "" && k !== "maxContainers") continue;
      // Anything but a whole number goes as typed, so the API's own message explains what is wrong.
      const value = raw === "" ? null : /^-?\d+$/.test(raw) ? Number(raw) : raw;
      if (card.stats && card.stats.autoscaler[k] === value) continue;
      update[k] = value;
    }
    if (!Object.keys(update).length) return message(form, "Nothing changed.", false);
    void save(form, el, update);
  });
  // Every failure ends as the form's message.
  async function save(form: HTMLFormElement, el: HTMLElement, update: Partial<Record<Setting, number | string | null>>): Promise<void> {
    const pool = new URLSearchParams();
    if (el.dataset.params) pool.set("params", el.dataset.params);
    if (el.dataset.variant) pool.set("variant", el.dataset.variant);
    const query = pool.toString() ? "?" + pool.toString() : "";
    try {
      const res = await fetch("/dashboard/api/functions/" + encodeURIComponent(el.dataset.functionId ?? "") + "/autoscaler" + query, {
        method: "PATCH",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(update),
      });
      const body = (await res.json()) as ErrorBody;
      if (!res.ok) return message(form, body.error ? body.error.message : "HTTP " + res.status, true);
      message(form, "Saved: " + Object.keys(update).join(", ") + ".", false);
      void poll();
    } catch (err) {
      message(form, "could not save: " + (err instanceof Error ? err.message : String(err)), true);
    }
  }
  function message(form: HTMLFormElement, text: string, isError: boolean): void {
    const p = find(form, "[data-form-message]");
    p.textContent = text;
    p.classList.toggle("error", isError);
  }

  // ---- range and visibility --------------------------------------------------------

  for (const button of document.querySelectorAll<HTMLElement>("[data-range]")) {
    button.addEventListener("click", () => {
      rangeMs = Number(button.dataset.range);
      for (const b of document.querySelectorAll("[data-range]")) b.setAttribute("aria-pressed", String(b === button));
      for (const card of cards.values()) drawChart(card);
    });
  }
  window.addEventListener("resize", () => {
    for (const card of cards.values()) drawChart(card);
  });
  // A hidden tab stops polling; coming back refreshes at once.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) void poll();
  });
  void poll();
}
