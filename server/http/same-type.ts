/**
 * A compile-time check that two types are the same, for a value list a zod-only schema file must spell out itself
 * (it may import nothing but zod) while the list's owner lives in a module the page cannot read (models/, drizzle).
 */

/** `true` when `A` and `B` are mutually assignable, else `false`. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Compiles only when `A` and `B` are the same type (`proof` must then be `true`); does nothing at run time. */
export function assertSameType<A, B>(proof: Same<A, B>): void {
  void proof;
}
