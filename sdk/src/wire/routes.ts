// Every route of the HTTP API, once: its method, its path template, how its
// body travels and the types of its request and response. The platform
// registers its routes from this table and the SDK builds its requests from
// it, so neither can spell a path the other does not have.
import type {
  CancelCallResponse,
  CreateCallRequest,
  CreateCallResponse,
  CreateTokenResponse,
  CreateWorkspaceRequest,
  DeleteAppResponse,
  DeployRequest,
  DeployResponse,
  FunctionInfo,
  FunctionStats,
  GetCallResultsRequest,
  GetCallResultsResponse,
  GetLogsResponse,
  GetOutputsResponse,
  GetStreamResponse,
  HealthResponse,
  ListAppsResponse,
  ListSchedulesResponse,
  PutInputsRequest,
  PutInputsResponse,
  SpawnRequest,
  SpawnResponse,
  StopAppResponse,
  UpdateAutoscalerRequest,
} from "./api.js";
import type { AutoscalerSettings } from "./options.js";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";
/** How a route's request and response bodies travel: JSON, or CBOR (the call routes, whose arguments and results are CBOR bytes). */
export type BodyEncoding = "json" | "cbor";

export interface Route<Path extends string = string, Request = unknown, Response = unknown> {
  method: HttpMethod;
  /** OpenAPI-style template: `{name}` marks a path parameter. */
  path: Path;
  encoding: BodyEncoding;
  /** Type-only: the request body this route takes (`never` for none). */
  readonly request?: Request;
  /** Type-only: the body it answers with. */
  readonly response?: Response;
}

/** A route whose body types are given once here and nowhere else. */
function route<Request, Response>() {
  return <Path extends string>(method: HttpMethod, path: Path, encoding: BodyEncoding = "json"): Route<Path, Request, Response> => ({ method, path, encoding });
}

export const ROUTES = {
  health: route<never, HealthResponse>()("GET", "/v1/health"),
  createWorkspace: route<CreateWorkspaceRequest, CreateTokenResponse>()("POST", "/v1/workspaces"),
  createToken: route<never, CreateTokenResponse>()("POST", "/v1/tokens"),

  deploy: route<DeployRequest, DeployResponse>()("POST", "/v1/apps/{app}/deployments"),
  listApps: route<never, ListAppsResponse>()("GET", "/v1/apps"),
  stopApp: route<never, StopAppResponse>()("POST", "/v1/apps/{app}/stop"),
  deleteApp: route<never, DeleteAppResponse>()("DELETE", "/v1/apps/{app}"),
  lookupFunction: route<never, FunctionInfo>()("GET", "/v1/apps/{app}/functions/{name}"),
  listSchedules: route<never, ListSchedulesResponse>()("GET", "/v1/apps/{app}/schedules"),

  createCall: route<CreateCallRequest, CreateCallResponse>()("POST", "/v1/functions/{functionId}/calls", "cbor"),
  /** A WebSocket upgrade: the call channel (wire/channel.ts), whose frames are CBOR. */
  callChannel: route<never, never>()("GET", "/v1/functions/{functionId}/channel"),
  spawn: route<SpawnRequest, SpawnResponse>()("POST", "/v1/functions/{functionId}/spawns", "cbor"),
  stats: route<never, FunctionStats>()("GET", "/v1/functions/{functionId}/stats"),
  updateAutoscaler: route<UpdateAutoscalerRequest, AutoscalerSettings>()("PATCH", "/v1/functions/{functionId}/autoscaler"),
  logs: route<never, GetLogsResponse>()("GET", "/v1/functions/{functionId}/logs"),

  putInputs: route<PutInputsRequest, PutInputsResponse>()("POST", "/v1/calls/{callId}/inputs", "cbor"),
  getOutputs: route<never, GetOutputsResponse>()("GET", "/v1/calls/{callId}/outputs", "cbor"),
  getStream: route<never, GetStreamResponse>()("GET", "/v1/calls/{callId}/stream", "cbor"),
  getCallResults: route<GetCallResultsRequest, GetCallResultsResponse>()("POST", "/v1/calls/outputs", "cbor"),
  cancelCall: route<never, CancelCallResponse>()("POST", "/v1/calls/{callId}/cancel"),

  bundle: route<never, string>()("GET", "/v1/internal/bundles/{deploymentId}"),
} as const;

export type RouteName = keyof typeof ROUTES;

/** The names of a path template's `{parameters}`. */
export type PathParamName<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}` ? Name | PathParamName<Rest> : never;
export type PathParams<Path extends string> = { [K in PathParamName<Path>]: string };

export type RequestOf<R> = R extends Route<string, infer Request, unknown> ? Request : never;
export type ResponseOf<R> = R extends Route<string, unknown, infer Response> ? Response : never;

/** A route's path with its parameters filled in, each one URL-encoded (a call id or name cannot reach another route). */
export function pathOf<Path extends string>(route: Route<Path, unknown, unknown>, params: PathParams<Path>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = (params as Record<string, string | undefined>)[name];
    if (value === undefined) throw new Error(`route ${route.path}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
}
