export * from "./serialization.js";
export * from "./options.js";
export * from "./api.js";
export * from "./protocol.js";
export * from "./host.js";
export * from "./chunks.js";
export * from "./routes.js";
export * from "./channel.js";
