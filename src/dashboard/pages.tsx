// The dashboard's pages: the workspace's apps, and one app's functions and
// class instances. The server renders the structure; the page script
// (assets.ts) fills in the live numbers, the charts and the recent calls.
import type { Child } from "hono/jsx";
import type { AutoscalerSettings } from "../../sdk/src/wire/options";
import type { AppRow, FunctionRow } from "../db/queries";
import type { AppContents, FunctionEntry, PoolRef } from "./data";
import { Layout } from "./layout";
import { variantLabel } from "../../sdk/src/wire/variant";

export interface AppSummary {
  name: string;
  state: AppRow["state"];
  ephemeral: boolean;
  version: number;
  deployedAt: number;
  functions: string[];
}

export function AppsPage(props: { apps: AppSummary[] }) {
  return (
    <Layout title="Apps · Squall" signedIn={true}>
      <h1>Apps</h1>
      {props.apps.length === 0 ? (
        <p class="empty">
          No apps yet. Deploy one with <code>npx squall deploy app.ts</code>.
        </p>
      ) : (
        <ul class="apps">
          {props.apps.map((a) => (
            <li>
              <a href={`/apps/${encodeURIComponent(a.name)}`}>{a.name}</a>
              <span class={`badge state-${a.state}`}>{a.state}</span>
              {a.ephemeral && <span class="badge">ephemeral</span>}
              <div class="muted">
                version {a.version} · deployed {utcMinute(a.deployedAt)} · {a.functions.join(", ") || "no functions"}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

export function AppPage(props: { contents: AppContents }) {
  const { app, functions } = props.contents;
  return (
    <Layout title={`${app.name} · Squall`} signedIn={true} app={app.name}>
      <div class="app-head">
        <h1>
          {app.name} <span class={`badge state-${app.state}`}>{app.state}</span>
        </h1>
        <div class="range" role="group" aria-label="Chart range">
          {RANGES.map((r) => (
            <button type="button" data-range={r.ms} aria-pressed={r.ms === DEFAULT_RANGE_MS ? "true" : "false"}>
              {r.label}
            </button>
          ))}
        </div>
      </div>
      <p class="muted">
        version {app.version} · <span data-status>connecting…</span>
      </p>
      {functions.map((f) => (f.fn.kind === "function" ? f.pools.map((p) => <PoolCard fn={f.fn} pool={p} />) : <ClassGroup entry={f} />))}
    </Layout>
  );
}

const RANGES = [
  { label: "1 min", ms: 60_000 },
  { label: "10 min", ms: 10 * 60_000 },
  { label: "1 hour", ms: 60 * 60_000 },
];
const DEFAULT_RANGE_MS = 60 * 60_000;

function ClassGroup(props: { entry: FunctionEntry }) {
  const { fn, pools, instanceCount } = props.entry;
  return (
    <section class="class-group">
      <h2>
        {fn.name} <span class="muted">class · methods {methodsOf(fn).join(", ")}</span>
      </h2>
      {pools.length === 0 && <p class="empty">No instances called yet: each distinct set of constructor params gets its own pool.</p>}
      {pools.map((p) => (
        <PoolCard fn={fn} pool={p} />
      ))}
      {instanceCount > pools.length && (
        <p class="muted">
          Showing the {pools.length} newest of {instanceCount} instances.
        </p>
      )}
    </section>
  );
}

const SETTINGS: Array<keyof AutoscalerSettings> = ["minContainers", "maxContainers", "bufferContainers", "scaledownWindowMs"];

function PoolCard(props: { fn: FunctionRow; pool: PoolRef }) {
  const { fn, pool } = props;
  const title = variantLabel(pool.paramsText === null ? fn.name : `${fn.name}(${pool.paramsText})`, pool.variant);
  const kind = (fn.kind === "class" ? "instance" : "function") + (pool.variant ? " variant" : "");
  return (
    <section class="pool" data-pool={pool.key} data-function-id={pool.functionId} data-params={pool.params ?? ""} data-variant={pool.variant}>
      <h2 class="pool-title">
        {title} <span class="muted">{kind}</span>
      </h2>
      <div class="stats">
        <Stat label="containers" field="containers">
          <small data-field="containers-detail"></small>
        </Stat>
        <Stat label="backlog" field="backlog" />
        <Stat label="running inputs" field="running" />
        <Stat label="inputs/s" field="rate" />
        <Stat label="errors (1 h)" field="errors" />
      </div>
      <p class="held-back" data-field="held-back" role="status"></p>
      <figure class="chart">
        <svg data-chart viewBox="0 0 600 180" role="img" aria-label={`${title}: containers and backlog`}></svg>
        <figcaption class="legend">
          <span class="key busy">busy</span>
          <span class="key idle">idle</span>
          <span class="key starting">starting</span>
          <span class="key backlog">backlog (right axis)</span>
        </figcaption>
      </figure>
      <div class="autoscaler">
        <h3>Autoscaler</h3>
        <dl>
          {SETTINGS.map((s) => (
            <div>
              <dt>{s}</dt>
              <dd>
                <span data-field={`setting-${s}`}>–</span> <span class="source" data-source={s}></span>
              </dd>
            </div>
          ))}
        </dl>
        <p class="adaptive" data-adaptive hidden></p>
        <details>
          <summary>Change settings</summary>
          <form data-autoscaler-form>
            {SETTINGS.map((s) => (
              <label>
                {s}
                <input name={s} inputmode="numeric" autocomplete="off" placeholder={s === "maxContainers" ? "none" : ""} />
              </label>
            ))}
            <button type="submit">Save</button>
            <p class="form-message" data-form-message role="status"></p>
          </form>
          <p class="muted">An override lasts until the app's next deploy. Leave maxContainers empty for no bound; scaledownWindowMs may be "auto".</p>
        </details>
      </div>
      <details class="recent" open>
        <summary>Recent calls</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>finished</th>
                <th>call</th>
                <th>status</th>
                <th>duration</th>
                <th>container</th>
                <th>error</th>
              </tr>
            </thead>
            <tbody data-recent></tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

function Stat(props: { label: string; field: string; children?: Child }) {
  return (
    <div class="stat">
      <span class="label">{props.label}</span>
      <b data-field={props.field}>–</b>
      {props.children}
    </div>
  );
}

function methodsOf(fn: FunctionRow): string[] {
  return fn.methods as string[];
}

function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
