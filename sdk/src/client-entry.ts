// `squall/client`: calling deployed functions from anywhere fetch exists — a
// Worker, a Durable Object, a browser, Node — with no Node module on its path.
// Give it url + token, or binding + token; it reads no config file.
export { Client, type ClientOptions, type UnknownClass } from "./client.js";
export type { ServiceBinding } from "./connection.js";
export { FunctionCall, type GetOptions } from "./function-call.js";
export type { FunctionHandle, MapOptionsReturningExceptions } from "./function.js";
export type { MapStream, MapOptions, Inputs } from "./map.js";
export { failedInputIndex } from "./map.js";
export type { ErrorClass } from "./remote-errors.js";
export type { ClsHandle, ClsInstance, MethodHandles, PoolControls } from "./cls.js";
export {
  SquallError,
  NotFoundError,
  InvalidError,
  AuthError,
  ResourceExhaustedError,
  FunctionTimeoutError,
  InputCancellation,
  UserCodeException,
  RemoteError,
} from "./errors.js";
export type { FunctionStats } from "./wire/api.js";
