/** S3 key prefixes as both sides write them: model URIs (team side) and the platform's IAM scopes. */

/** Normalises a prefix to `a/b` (no leading or trailing slash); rejects empty and wildcard prefixes. */
export function normalizePrefix(prefix: string): string {
    const p = prefix.replace(/^\/+|\/+$/g, "");
    if (p.length === 0 || /[*?]/.test(p)) {
        throw new Error(`S3 prefix must be a non-empty path without wildcards, got "${prefix}"`);
    }
    return p;
}
