// An app whose bundle throws on import where the platform runs it
// (SQUALL_CONTAINER_ID is set), so `squall deploy`, which imports it
// locally, succeeds, and no container of it can start.
import { App } from "squall";

export const app = new App("containers-broken");

export const never = app.function({}, async function never(): Promise<number> {
  return 1;
});

if (process.env.SQUALL_CONTAINER_ID) throw new Error("this bundle refuses to load in a container");
