// A function called on a steady rhythm, for the adaptive scale-down e2e test:
// it says which container ran it and when that container's runner loaded it.
import { App } from "squall";

export const app = new App("rhythm");

const loadedAtMs = Date.now();

export const periodic = app.function({ scaledownWindowMs: "auto", maxContainers: 1 }, async function periodic() {
  return { container: process.env.SQUALL_CONTAINER_ID ?? "", loadedAtMs };
});
