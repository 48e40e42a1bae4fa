// A worker thread of the runner (see threads.ts): imports the app bundle the
// runner already downloaded, finds the one function or class it serves (for a
// class: builds this thread's own instance and runs its enter()), and runs one
// input at a time with the same invoke() as the main thread, so arguments,
// results, errors and console output behave exactly as there. Its registry,
// module state and SDK copy are its own: the bundle's top level runs again here.
import { parentPort, workerData } from "node:worker_threads";
import type { LoadedTarget } from "./loader.js";
import { bindToDeployment, findRegistered, importBundle, targetOf } from "./loader.js";
import { invoke } from "./invoke.js";
import { captureConsole } from "./console-capture.js";
import { serializeError } from "../wire/serialization.js";
import type { MainToThread, ThreadData, ThreadToMain } from "./threads.js";

const port = parentPort;
if (!port) throw new Error("runner/thread.js runs as a worker thread of the runner, not on its own");
const data = workerData as ThreadData;
const post = (message: ThreadToMain, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

// As on the main thread (runner/main.ts): stacks name the app's own files, and
// one input's forgotten promise does not take down the thread.
process.setSourceMapsEnabled(true);
process.on("unhandledRejection", (reason) => console.error("Unhandled promise rejection:", reason));
// Lines still reach this thread's stdout/stderr, which Node pipes to the
// runner's; the copy goes to the main thread for the pool, tagged by input.
captureConsole((line) => post({ t: "log", line }));

async function load(): Promise<LoadedTarget> {
  await importBundle(data.bundleFile);
  bindToDeployment(data.appName);
  const target = data.params ? { kind: "class" as const, name: data.name, params: data.params } : { kind: "function" as const, name: data.name };
  return targetOf(findRegistered(target, data.appName), data.params, data.bundleFile);
}

load().then(
  (target) => {
    port.on("message", (message: MainToThread) => {
      void invoke(target, { id: message.id, args: message.args, method: message.method }).then((outcome) => {
        // A copy of just the value (cbor-x returns a Buffer over its reused
        // encoding buffer, which must not be moved), moved rather than cloned.
        const value = new Uint8Array(outcome.value);
        post({ t: "done", id: message.id, status: outcome.status, value }, [value.buffer as ArrayBuffer]);
      });
    });
    post({ t: "ready" });
  },
  (err: unknown) => post({ t: "init_failed", error: serializeError(err) }),
);
