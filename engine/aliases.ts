/**
 * Where a program's resources are found in an earlier state, as the Pulumi engine decides it when the
 * SDK sends alias specs (the recording engine's `aliasSpecs` feature; the Node SDK then leaves aliases
 * to the engine and sends only each resource's own). The engine's step generator
 * (pkg/resource/deploy/step_generator.go: generateAliases, collapseAliasToUrn, inheritedChildAlias):
 *
 * - looks a resource up at its own URN first, then at each alias, in order; the first URN the state
 *   holds is the one it is found at (found at an alias: the resource is updated in place, not replaced);
 * - an alias spec leaves out what it does not change: name, type, project and stack default to the
 *   resource's, the parent to its current parent; a spec's parent that was itself found at an alias
 *   stands for that alias (the child was under the parent's old URN);
 * - a child of a parent found at an alias inherits the alias: its own type and name under the parent's
 *   old URN (a name starting with the parent's name has that prefix replaced by the parent's old name),
 *   and so for each of its own aliases. So a component that moves, with an alias to its former parent,
 *   keeps its whole subtree without aliases on the children.
 */
import { aliasUrn, urnName } from "./policies";
import type { RecordedAlias, RecordedResource } from "./recorder";

/** What alias resolution reads of a resource. */
export type AliasedResource = Pick<RecordedResource, "urn" | "type" | "name" | "parent"> & { options: { aliases?: readonly RecordedAlias[] } };

/** The qualified type of a URN: the parents' types and its own, `$`-separated. */
function qualifiedType(urn: string): string {
    return urn.split("::")[2] ?? "";
}

/** The resource's own type of a URN (the last of the qualified type). */
function ownType(urn: string): string {
    return qualifiedType(urn).split("$").pop() ?? "";
}

/**
 * The URN of the earlier state each resource is found at (its own, or one of its aliases, inherited ones
 * included), or undefined: the resource is created. `inOld` tells whether the earlier state holds a URN.
 * An alias that is another resource's current URN is skipped (the engine refuses two resources claiming
 * one URN).
 */
export function resolveOldUrns(resources: readonly AliasedResource[], inOld: (urn: string) => boolean): Map<string, string | undefined> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const found = new Map<string, string | undefined>();
    /** The old URN a resource was found at when it is not its own: what its children and alias specs refer to. */
    const movedFrom = (urn: string): string | undefined => {
        const old = resolve(urn);
        return old !== undefined && old !== urn ? old : undefined;
    };
    const resolve = (urn: string): string | undefined => {
        if (found.has(urn)) return found.get(urn);
        const r = byUrn.get(urn);
        if (!r) return urn; // not a resource of this program (the root stack): never aliased
        const [stackPart, project] = r.urn.split("::");
        const own = (r.options.aliases ?? []).map((a) => {
            const parentUrn = "urn" in a || !a.parentUrn ? undefined : movedFrom(a.parentUrn);
            return aliasUrn(r, parentUrn ? { ...a, parentUrn } : a);
        });
        const candidates = [...own];
        const parentOld = r.parent ? movedFrom(r.parent) : undefined;
        if (parentOld) {
            const parentName = urnName(r.parent);
            const inherited = (type: string, name: string) =>
                `${stackPart}::${project}::${qualifiedType(parentOld)}$${type}::${name.startsWith(parentName) ? urnName(parentOld) + name.slice(parentName.length) : name}`;
            candidates.push(inherited(r.type, r.name), ...own.map((a) => inherited(ownType(a), urnName(a))));
        }
        const old = [r.urn, ...candidates.filter((c) => !byUrn.has(c))].find(inOld);
        found.set(urn, old);
        return old;
    };
    for (const r of resources) resolve(r.urn);
    return found;
}
