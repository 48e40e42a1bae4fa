// The dashboard page's script, as the Worker serves it: the source of
// dashboardApp (./browser/app.ts) as this Worker's bundler compiled it, called
// once. The import resolves, through package.json "imports", to the module
// itself for the bundlers and to a declaration for the Worker's type-check,
// which has no DOM types; the module itself is type-checked against the DOM
// (npm run typecheck).
import { dashboardApp } from "#dashboard/app";

// esbuild's keepNames (on in wrangler's bundles) labels the inner functions by
// calling its module-level `__name` helper, which the page needs its own copy of.
const NAME_HELPER = `const __name = (fn, name) => Object.defineProperty(fn, "name", { value: name, configurable: true });`;

export const SCRIPT = `"use strict";\n{\n${NAME_HELPER}\n(${dashboardApp.toString()})();\n}\n`;
