// Type-level contract (README): misuse is a type error. These assertions are
// checked by `tsc -p test/tsconfig.json` (npm run typecheck), which also fails
// when a line marked as an expected error stops being one.
import { describe, expectTypeOf, it } from "vitest";
import { App, Cron, FunctionCall, type FunctionStats, type MapStream } from "../../../sdk/src/index";

const app = new App("types");
const square = app.function({ maxContainers: 2, schedule: new Cron("0 * * * *") }, async function square(x: number) {
  return x * x;
});
const greet = app.function({}, function greet(name: string, excited: boolean) {
  return excited ? `hello ${name}!` : `hello ${name}`;
});
const Model = app.cls(
  {},
  class Model {
    constructor(readonly params: { modelVersion: string }) {}
    async enter() {}
    async predict(x: number) {
      return String(x);
    }
  },
);

// Never called: only its types matter.
async function misuse(): Promise<void> {
  // @ts-expect-error a function handle is not callable
  square(3);
  // @ts-expect-error remote returns a Promise, which has no map
  void square.remote(3).map;
  // @ts-expect-error argument types come from the function
  await square.remote("3");
  // @ts-expect-error map items are the function's first argument
  square.map(["a"]);
  // @ts-expect-error starmap items are whole argument lists
  greet.starmap([["ada"]]);
  // @ts-expect-error params are the constructor's
  Model.instance({ version: "3.5" });
  // @ts-expect-error enter is a lifecycle hook, not a remote method
  void Model.instance({ modelVersion: "3.5" }).enter;
  // @ts-expect-error unknown options are rejected
  app.function({ maxContainer: 3 }, async function typo() {});
  // @ts-expect-error a schedule is a Cron or a Period
  app.function({ schedule: "0 * * * *" }, async function hourly() {});
}

describe("types", () => {
  it("infers arguments and results from the user's function", () => {
    expectTypeOf(misuse).toBeFunction();
    expectTypeOf(square.remote).toEqualTypeOf<(x: number) => Promise<number>>();
    expectTypeOf(greet.remote).parameters.toEqualTypeOf<[name: string, excited: boolean]>();
    expectTypeOf(square.map([1, 2])).toEqualTypeOf<MapStream<number>>();
    expectTypeOf(square.map([1], { returnExceptions: true })).toEqualTypeOf<MapStream<number | Error>>();
    expectTypeOf(greet.starmap([["ada", true]])).toEqualTypeOf<MapStream<string>>();
    // Wrapped in functions: these would reach for a platform if they ran.
    expectTypeOf(() => square.spawn(2)).returns.toEqualTypeOf<Promise<FunctionCall<number>>>();
    expectTypeOf(() => square.getCurrentStats()).returns.toEqualTypeOf<Promise<FunctionStats>>();
    const m = Model.instance({ modelVersion: "3.5" });
    expectTypeOf(() => m.predict.remote(3)).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(() => m.getCurrentStats()).returns.toEqualTypeOf<Promise<FunctionStats>>();
    const gathered = (a: FunctionCall<number>, b: FunctionCall<string>) => FunctionCall.gather(a, b);
    expectTypeOf(gathered).returns.toEqualTypeOf<Promise<[number, string]>>();
  });
});
