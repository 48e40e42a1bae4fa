// The dashboard's stylesheet, served by the Worker (no CDN). One column on a
// phone; cards side by side on a wide screen.
export const STYLE = `
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --card: #fff; --accent: #2563eb;
  --busy: #2563eb; --idle: #93c5fd; --starting: #fbbf24; --backlog: #dc2626; --ok: #15803d; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 64rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
code { background: #f3f4f6; padding: .1rem .3rem; border-radius: 4px; }
h1 { font-size: 1.5rem; margin: .5rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
h3 { font-size: .95rem; margin: .75rem 0 .25rem; }
.top { display: flex; align-items: center; justify-content: space-between; padding: .6rem 1rem; background: #111827; color: #fff; }
.top form { margin: 0; }
.brand { color: #fff; font-weight: 700; text-decoration: none; letter-spacing: .02em; }
button { font: inherit; padding: .35rem .8rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.link { background: none; border: none; color: #d1d5db; padding: 0; text-decoration: underline; }
input { font: inherit; padding: .35rem .5rem; border: 1px solid #d1d5db; border-radius: 6px; width: 100%; }
label { display: grid; gap: .2rem; font-size: .85rem; color: var(--muted); }
.muted { color: var(--muted); font-weight: normal; font-size: .85rem; }
.empty { color: var(--muted); }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .05rem .45rem; border-radius: 999px; background: #e5e7eb; color: var(--fg);
  margin-left: .4rem; vertical-align: middle; }
.state-deployed { background: #dcfce7; color: var(--ok); }
.state-stopped { background: #fee2e2; color: var(--bad); }
.sign-in { max-width: 26rem; margin: 2rem auto; background: var(--card); padding: 1.5rem; border: 1px solid var(--line); border-radius: 10px; }
.sign-in form { display: grid; gap: .75rem; }
.apps { list-style: none; padding: 0; display: grid; gap: .5rem; }
.apps li { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .75rem 1rem; }
.apps a { font-weight: 600; font-size: 1.05rem; }
.app-head { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; justify-content: space-between; }
.range { display: flex; gap: .25rem; }
.range button { background: var(--card); color: var(--fg); border-color: #d1d5db; padding: .2rem .6rem; font-size: .85rem; }
.range button[aria-pressed="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
.class-group { margin: 1.25rem 0; }
.class-group > h2 { margin-bottom: .75rem; }
.pool { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin: 0 0 1rem; min-width: 0; }
.pool-title { overflow-wrap: anywhere; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(7.5rem, 1fr)); gap: .5rem; }
.held-back { color: var(--bad); margin: .5rem 0 0; overflow-wrap: anywhere; }
.held-back:empty { display: none; }
.stat { border: 1px solid var(--line); border-radius: 8px; padding: .4rem .6rem; }
.stat .label { display: block; font-size: .75rem; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.stat b { font-size: 1.4rem; font-variant-numeric: tabular-nums; }
.stat small { display: block; color: var(--muted); font-size: .75rem; }
.chart { margin: .75rem 0 0; }
.chart svg { width: 100%; height: 180px; display: block; background: #fcfcfd; border: 1px solid var(--line); border-radius: 8px; }
.chart text { font-size: 11px; fill: var(--muted); }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .area-busy { fill: var(--busy); }
.chart .area-idle { fill: var(--idle); }
.chart .area-starting { fill: var(--starting); }
.chart .line-backlog { fill: none; stroke: var(--backlog); stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: .75rem; font-size: .8rem; color: var(--muted); margin-top: .3rem; }
.key::before { content: ""; display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
.key.busy::before { background: var(--busy); }
.key.idle::before { background: var(--idle); }
.key.starting::before { background: var(--starting); }
.key.backlog::before { background: var(--backlog); height: .2rem; vertical-align: 3px; }
.autoscaler dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .25rem .75rem; margin: 0; }
.autoscaler dt { font-size: .75rem; color: var(--muted); }
.autoscaler dd { margin: 0; font-variant-numeric: tabular-nums; }
.autoscaler .adaptive { font-size: .85rem; color: var(--muted); margin: .5rem 0 0; }
.source { font-size: .7rem; padding: 0 .35rem; border-radius: 999px; background: #f3f4f6; color: var(--muted); }
.source.override { background: #dbeafe; color: #1d4ed8; }
.source.schedule { background: #fef3c7; color: #92400e; }
.source.clamped { background: #fee2e2; color: #b91c1c; }
details { margin-top: .6rem; }
summary { cursor: pointer; font-weight: 600; font-size: .9rem; }
form[data-autoscaler-form] { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .5rem; align-items: end; margin-top: .5rem; }
.form-message { grid-column: 1 / -1; margin: 0; font-size: .85rem; color: var(--ok); min-height: 1.2em; }
.form-message.error { color: var(--bad); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .82rem; margin-top: .4rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.error { white-space: normal; color: var(--bad); min-width: 12rem; overflow-wrap: anywhere; }
tr.status-success td.status { color: var(--ok); }
tr:not(.status-success) td.status { color: var(--bad); font-weight: 600; }
`;
