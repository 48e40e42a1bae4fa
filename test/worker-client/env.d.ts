declare global {
  namespace Cloudflare {
    interface Env {
      /** Forwards to the real local platform (vitest.config.ts). */
      SQUALL: Fetcher;
    }
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    squallUrl: string;
    squallToken: string;
  }
}

export {};
