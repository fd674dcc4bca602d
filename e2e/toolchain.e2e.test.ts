/**
 * The tier's own toolchain: the binaries e2e/setup/install.sh built are the pinned release.
 */
import { execFileSync } from "child_process";
import { describe, expect, it } from "vitest";
import { KUBE_VERSION, kubeBinary } from "./lib/paths";

describe("e2e toolchain", () => {
    it("kube-apiserver is the pinned release, built from Go modules", () => {
        const out = execFileSync(kubeBinary("kube-apiserver"), ["--version"], { encoding: "utf8" });
        expect(out.trim()).toBe(`Kubernetes ${KUBE_VERSION}`);
    });
});
