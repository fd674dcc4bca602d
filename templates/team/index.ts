/**
 * Team __TEAM__'s stack: one online model (a ModelService) on the MLOps platform. It reads the platform
 * stack of its environment with readPlatform and deploys into the team's namespace. The service's
 * settings are stack configuration (`team-__TEAM__:scorer` in Pulumi.<stack>.yaml); ModelService checks
 * them at runtime and reports every problem at once.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { type Environment, ModelService, type ModelServiceArgs, readPlatform } from "mlops-platform";

const config = new pulumi.Config();
const team = config.require("team");

const platform = readPlatform("platform", {
    stack: config.require("platformStack"),
    team,
    environment: config.require("environment") as Environment,
    labelDomain: config.require("labelDomain"),
    costCentre: config.require("costCentre"),
    runbookBaseUrl: config.require("runbookBaseUrl"),
});

/** What Pulumi.<stack>.yaml sets for the scorer; the rest comes from the platform. */
type ScorerConfig = Omit<ModelServiceArgs, "team" | "owners" | "platform" | "inputSchema">;

const scorer = new ModelService(
    `${team}-scorer`,
    {
        ...config.requireObject<ScorerConfig>("scorer"),
        team,
        owners: config.requireObject<string[]>("owners"),
        platform: platform.refs,
        // The JSON Schema requests are validated against (required in prod).
        inputSchema: JSON.parse(fs.readFileSync(path.join(__dirname, "schemas", "request.schema.json"), "utf8")),
    },
    { providers: [platform.kubernetesProvider] },
);

export const namespace = scorer.namespace;
export const scorerUrl = scorer.url;
export const scorerOperatingNote = scorer.operatingNote;
