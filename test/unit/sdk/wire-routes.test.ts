import { describe, expect, it } from "vitest";
import { ROUTES, pathOf } from "../../../sdk/src/wire/routes";

describe("the route table", () => {
  it("fills in path parameters, each one URL-encoded as one segment", () => {
    expect(pathOf(ROUTES.lookupFunction, { app: "my-app", name: "square" })).toBe("/v1/apps/my-app/functions/square");
    expect(pathOf(ROUTES.getOutputs, { callId: "fc-../../v1/apps" })).toBe("/v1/calls/fc-..%2F..%2Fv1%2Fapps/outputs");
    expect(pathOf(ROUTES.deploy, { app: "a b?" })).toBe("/v1/apps/a%20b%3F/deployments");
    expect(pathOf(ROUTES.listApps, {})).toBe("/v1/apps");
  });

  it("names a missing parameter rather than sending a path with a hole", () => {
    expect(() => pathOf(ROUTES.stopApp, {} as { app: string })).toThrow(/\{app\}/);
  });

  it("has one entry per method and path", () => {
    const keys = Object.values(ROUTES).map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
