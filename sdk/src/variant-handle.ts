// What function and class handles share for variants (`withOptions`,
// `withConcurrency`): merging and checking the options, and naming the
// variant in every request (wire/variant.ts).
import type { ConcurrencyOptions } from "./wire/options.js";
import { OptionsError } from "./wire/options.js";
import { variantKey, withVariantConcurrency, withVariantOptions, type Variant, type VariantOptions } from "./wire/variant.js";
import { InvalidError } from "./errors.js";
import type { ResolveTarget } from "./calls.js";

/** `withOptions` over a variant; an option `app.function` would refuse throws InvalidError, before anything is sent. */
export function optionsVariant(name: string, base: Variant, options: VariantOptions): Variant {
  return checked(() => withVariantOptions(name, base, options));
}

/** `withConcurrency` over a variant (it replaces the concurrency as a whole). */
export function concurrencyVariant(name: string, base: Variant, concurrency: ConcurrencyOptions): Variant {
  return checked(() => withVariantConcurrency(name, base, concurrency));
}

/** The target of a variant: the function's, naming the variant (the function's own pool for none). */
export function targetOfVariant(resolve: ResolveTarget, variant: Variant): ResolveTarget {
  const key = variantKey(variant);
  return key === "" ? resolve : async () => ({ ...(await resolve()), variant: key });
}

function checked(merge: () => Variant): Variant {
  try {
    return merge();
  } catch (err) {
    if (err instanceof OptionsError) throw new InvalidError(err.message);
    throw err;
  }
}
