// A plain Node ESM client: looks a deployed function up by name and calls it.
// Run `npx squall deploy examples/hello.ts` first.
import { Client } from "squall";

const client = new Client(); // SQUALL_URL / SQUALL_TOKEN, else the active profile in ~/.squall.toml
const square = await client.functions.fromName("hello", "square");
console.log("square(12) =", await square.remote(12));

const validate = await client.functions.fromName("hello", "validate");
try {
  await validate.remote({ age: -1 });
} catch (err) {
  console.log(`remote error kept its name and message: ${err.name}: ${err.message}`);
}
