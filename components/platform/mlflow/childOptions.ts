/**
 * Options of the resources of MlflowTracking's child components (database, auth, server, gc). Those resources were
 * once children of MlflowTracking itself; moving them under a child component changes their URN's
 * parent type chain, so each carries an alias naming its former parent: the engine finds it at its old
 * URN and updates it in place instead of replacing it. A child that is itself a component (the database's
 * RdsPostgres, InClusterPostgres) passes its alias on: the engine looks its children up under its old URN.
 */
import type * as pulumi from "@pulumi/pulumi";

/** `{ parent, aliases: [{ parent: formerParent }] }`: a child of `parent` that used to be a child of `formerParent`. */
export function movedChildOptions(parent: pulumi.Resource, formerParent: pulumi.Resource | undefined): pulumi.CustomResourceOptions {
    return formerParent ? { parent, aliases: [{ parent: formerParent }] } : { parent };
}
