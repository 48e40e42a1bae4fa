// The Client: a connection to a Squall platform, and lookup of deployed
// functions and classes by name.
import type { FunctionInfo } from "./wire/api.js";
import { InvalidError } from "./errors.js";
import { Http, attachHttp, httpOf } from "./http.js";
import { CallChannels, attachChannels } from "./channel.js";
import { resolveConnection, type ServiceBinding } from "./connection.js";
import { FunctionHandle } from "./function.js";
import { ClsHandle } from "./cls.js";
import type { CallTarget } from "./calls.js";
import { attachErrorClasses, type ErrorClass } from "./remote-errors.js";
import { ROUTES } from "./wire/routes.js";

export interface ClientOptions {
  /** The platform's URL; in Node, defaults to SQUALL_URL, then the active profile in ~/.squall.toml. */
  url?: string;
  /** In a Worker: a service binding to the platform's Worker (env.SQUALL), instead of a url. */
  binding?: ServiceBinding;
  /** A workspace token; in Node, defaults to SQUALL_TOKEN, then the active profile. */
  token?: string;
  /**
   * Your own error classes: a remote error of one of these classes (matched
   * by class name) is rebuilt as an instance of it, with its fields. Built-in
   * classes (TypeError, AggregateError, DOMException, …) need no listing.
   */
  errors?: readonly ErrorClass[];
}

/** A class looked up by name: its methods are known from the deployment, their types are not. */
export type UnknownClass = Record<string, (...args: unknown[]) => unknown>;

export class Client {
  readonly url: string;

  readonly functions = {
    /** The deployed function `name` of app `app`; NotFoundError if there is none. */
    fromName: async <Args extends unknown[] = unknown[], R = unknown>(app: string, name: string): Promise<FunctionHandle<Args, R>> => {
      const info = await lookup(this, app, name, "function");
      const target: CallTarget = { client: this, functionId: info.functionId, generator: info.options.generator === true };
      return new FunctionHandle<Args, R>(info.name, async () => target, null);
    },
  };

  readonly cls = {
    /** The deployed class `name` of app `app`; call its methods through `.instance(params)`. */
    fromName: async <P = unknown, T = UnknownClass>(app: string, name: string): Promise<ClsHandle<P, T>> => {
      const info = await lookup(this, app, name, "class");
      const target: CallTarget = { client: this, functionId: info.functionId };
      return new ClsHandle<P, T>(info.name, info.methods, async () => target, null);
    },
  };

  constructor(options: ClientOptions = {}) {
    const connection = resolveConnection(options);
    this.url = connection.url;
    attachHttp(this, new Http(connection.url, connection.token, connection.transport));
    if (connection.byUrl) attachChannels(this, new CallChannels(connection.url, connection.token));
    attachErrorClasses(this, options.errors);
  }
}

/** GET /v1/apps/:app/functions/:name, checking it is the kind the caller expects. */
export async function lookup(client: Client, app: string, name: string, kind: FunctionInfo["kind"]): Promise<FunctionInfo> {
  const info = await httpOf(client).send(ROUTES.lookupFunction, { params: { app, name } });
  if (info.kind !== kind) {
    const lookupCall = info.kind === "class" ? "client.cls.fromName()" : "client.functions.fromName()";
    throw new InvalidError(`${name} in app ${app} is a ${info.kind}, not a ${kind}: look it up with ${lookupCall}`);
  }
  return info;
}
