/**
 * `npm run -s new-team -- <team> [dir]`: a working team repository from templates/team: Pulumi.yaml,
 * tsconfig, package.json with the platform library and its peers at the versions this repository tests
 * and the platform's plan (mlops-plan) as a development tool, one ModelService (index.ts, its settings in Pulumi.<stack>.yaml), a stack per environment and a CI
 * workflow (the plan with the platform's policy packs on pull requests, `pulumi up` on merge).
 *
 *   --library <spec>      how package.json names the library: a version (default this one), or a
 *                         tarball path from `npm run build:lib` (file:...)
 *   --plan <spec>         how package.json names the plan package (mlops-plan, a devDependency): a
 *                         version (default the engine workspace's), or a tarball path (file:...)
 *   --org, --owner, --label-domain, --cost-centre, --runbooks, --registry-{dev,test,prod}: values for the stack files
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { PEER_MODULES, type PackageJson } from "./build-lib";
import { enginePackage } from "./build-plan";
import { teamNameProblem } from "../components/team/modelUri";

const ROOT = path.resolve(__dirname, "..");
export const TEMPLATE_DIR = path.join(ROOT, "templates", "team");

export interface TeamOptions {
    team: string;
    org: string;
    owner: string;
    labelDomain: string;
    costCentre: string;
    runbooks: string;
    /** The ECR registry of each environment's AWS account (images come from the environment's own account). */
    registries: { dev: string; test: string; prod: string };
    /** package.json's spec of the library (a version, or file:<tarball>). */
    library: string;
    /** package.json's spec of the plan package, mlops-plan (a version, or file:<tarball>). */
    plan: string;
}

export function defaultTeamOptions(team: string, root: PackageJson): TeamOptions {
    return {
        team,
        org: "acme",
        owner: `${team}-ml@acme.io`,
        labelDomain: "acme.io",
        costCentre: "CC-0000",
        runbooks: "https://github.com/acme/mlops-platform/blob/main/docs/runbooks",
        registries: {
            dev: "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
            test: "222222222222.dkr.ecr.eu-west-1.amazonaws.com",
            prod: "333333333333.dkr.ecr.eu-west-1.amazonaws.com",
        },
        library: root.version,
        plan: enginePackage().version,
    };
}

/** The team repository's package.json: the library and its peers; the plan and the TypeScript toolchain as development tools; at the tested versions. */
export function teamPackageJson(o: TeamOptions, root: PackageJson): PackageJson {
    const dev = (root as { devDependencies?: Record<string, string> }).devDependencies ?? {};
    const peers = Object.fromEntries(PEER_MODULES.map((m) => [m, root.dependencies?.[m] ?? ""]));
    return {
        name: `team-${o.team}`,
        version: "0.1.0",
        private: true,
        description: `Models of team ${o.team} on the MLOps platform.`,
        ...(root.engines ? { engines: root.engines } : {}),
        scripts: {
            // The platform's offline plan (the mlops-plan package); the packs shipped with it run by default.
            plan: "mlops-plan",
            typecheck: "tsc --noEmit",
        },
        dependencies: { [root.name]: o.library, ...peers },
        devDependencies: { [enginePackage().name]: o.plan, typescript: dev.typescript, "@types/node": dev["@types/node"] },
    };
}

/** The files of the team repository, by relative path. */
export function teamFiles(o: TeamOptions, root: PackageJson): Map<string, string> {
    const values: Record<string, string> = {
        __TEAM__: o.team,
        __ORG__: o.org,
        __OWNER__: o.owner,
        __LABEL_DOMAIN__: o.labelDomain,
        __COST_CENTRE__: o.costCentre,
        __RUNBOOKS__: o.runbooks,
        __REGISTRY_DEV__: o.registries.dev,
        __REGISTRY_TEST__: o.registries.test,
        __REGISTRY_PROD__: o.registries.prod,
        __NODE_MAJOR__: (root.engines?.node ?? ">=20").replace(/^\D*(\d+).*$/, "$1"),
    };
    const files = new Map<string, string>();
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const file = path.join(dir, e.name);
            if (e.isDirectory()) walk(file);
            else {
                const rel = path.relative(TEMPLATE_DIR, file).split(path.sep).join("/");
                // npm drops .gitignore files from packages: the template keeps it as `gitignore`.
                files.set(
                    rel === "gitignore" ? ".gitignore" : rel,
                    fs.readFileSync(file, "utf8").replace(/__[A-Z_]+__/g, (k) => values[k] ?? k),
                );
            }
        }
    };
    walk(TEMPLATE_DIR);
    files.set("package.json", `${JSON.stringify(teamPackageJson(o, root), null, 2)}\n`);
    return files;
}

/** Writes the team repository to `dir` (which must not exist or be empty). */
export function writeTeamRepository(dir: string, o: TeamOptions, root: PackageJson): string[] {
    const problem = teamNameProblem(o.team);
    if (problem) throw new Error(problem);
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new Error(`${dir} exists and is not empty`);
    const files = teamFiles(o, root);
    for (const [rel, content] of files) {
        const file = path.join(dir, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
    }
    return [...files.keys()].sort();
}

function main(argv: string[]): void {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            library: { type: "string" },
            plan: { type: "string" },
            org: { type: "string" },
            owner: { type: "string" },
            "label-domain": { type: "string" },
            "cost-centre": { type: "string" },
            runbooks: { type: "string" },
            "registry-dev": { type: "string" },
            "registry-test": { type: "string" },
            "registry-prod": { type: "string" },
        },
    });
    const [team, dirArg] = positionals;
    if (!team)
        throw new Error(
            "usage: npm run -s new-team -- <team> [dir] [--library <version|tarball>] [--plan <version|tarball>] [--org acme] [--owner x@acme.io] ...",
        );
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
    const o = defaultTeamOptions(team, root);
    const set = (k: "org" | "owner" | "labelDomain" | "costCentre" | "runbooks", v: string | undefined) => v !== undefined && (o[k] = v);
    set("org", values.org);
    set("owner", values.owner);
    set("labelDomain", values["label-domain"]);
    set("costCentre", values["cost-centre"]);
    set("runbooks", values.runbooks);
    for (const env of ["dev", "test", "prod"] as const) {
        const v = values[`registry-${env}`];
        if (v) o.registries[env] = v;
    }
    const spec = (v: string) => (/^\d/.test(v) ? v : `file:${path.resolve(v)}`);
    if (values.library) o.library = spec(values.library);
    if (values.plan) o.plan = spec(values.plan);
    const dir = path.resolve(dirArg ?? `team-${team}`);
    const files = writeTeamRepository(dir, o, root);
    console.log(
        `Wrote ${files.length} files to ${dir}: ${files.join(", ")}\nNext: cd ${path.relative(process.cwd(), dir) || "."} && npm install && npm run -s plan -- dev --stack-reference ${o.org}/mlops/dev=<platform outputs JSON>`,
    );
}

if (require.main === module) {
    try {
        main(process.argv.slice(2));
    } catch (err) {
        console.error(`error: ${(err as Error).message}`);
        process.exit(2);
    }
}
