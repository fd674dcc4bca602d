/**
 * The Gateway API CRDs on the tier's API server: cached by e2e/setup/gateway-api-crds.sh from the Go
 * module sigs.k8s.io/gateway-api (standard channel), applied and established on demand.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import type { ApiServer, KubeObject } from "./apiserver";
import { E2E_CACHE } from "./paths";

/** The Gateway API release whose CRDs the tier installs (e2e/setup/gateway-api-crds.sh reads the same variable). */
export const GATEWAY_API_VERSION = process.env.GATEWAY_API_VERSION ?? "v1.4.0";

export function gatewayApiCrdDir(): string {
    return path.join(E2E_CACHE, `gateway-api-crds-${GATEWAY_API_VERSION}`);
}

/** Applies the cached Gateway API CRDs as the administrator and waits until each is established. */
export async function installGatewayApiCrds(api: ApiServer): Promise<string[]> {
    const dir = gatewayApiCrdDir();
    if (!fs.existsSync(path.join(dir, ".complete"))) throw new Error(`no Gateway API CRDs in ${dir}: run e2e/setup/install.sh (npm run test:e2e does)`);
    const names: string[] = [];
    for (const f of fs
        .readdirSync(dir)
        .filter((x) => x.endsWith(".yaml"))
        .sort()) {
        const crd = yaml.load(fs.readFileSync(path.join(dir, f), "utf8")) as KubeObject;
        const r = await api.apply(crd, { fieldManager: "e2e-fixture" });
        if (r.status >= 300) throw new Error(`applying CRD ${f}: ${r.status} ${JSON.stringify(r.body?.message ?? r.body)}`);
        names.push(String(crd.metadata.name));
    }
    const deadline = Date.now() + 60_000;
    for (const name of names) {
        for (;;) {
            const r = await api.request("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
            if ((r.body?.status?.conditions ?? []).some((c: any) => c.type === "Established" && c.status === "True")) break;
            if (Date.now() > deadline) throw new Error(`CRD ${name} not established after 60 s`);
            await new Promise((res) => setTimeout(res, 200));
        }
    }
    return names;
}
