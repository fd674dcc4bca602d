import { it } from "vitest";
import { findObject, planExampleTeam, planPlatform } from "./lib/plans";
it("dep", async () => {
    const p = await planPlatform("test");
    const t = await planExampleTeam("test", p);
    const d = findObject(t, "Deployment", "fraud-scorer");
    console.log(JSON.stringify(d.spec.template.spec, null, 1));
    console.log(p.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy").map((r) => r.name).join(" "));
});
