// What the end-to-end tests share: the test platform's CLI, scripts and client,
// and the waiting helpers.
export * from "../fixtures/platform";
export { eventually, sleep, until } from "../fixtures/wait";
