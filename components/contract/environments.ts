/** The environments a stack can be: its name (or last name part) says which, and rules differ per environment. */
export const ENVIRONMENTS = ["dev", "test", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Is `value` one of {@link ENVIRONMENTS}? */
export function isEnvironment(value: unknown): value is Environment {
    return typeof value === "string" && (ENVIRONMENTS as readonly string[]).includes(value);
}
