/**
 * Generates docs/configuration.md, the configuration reference, from the one schema in
 * stacks/config/schema.ts: every key with its description (the JSDoc above it), what is allowed (the
 * sentence the schema uses in its error messages) and its default in dev, test and prod
 * (ENVIRONMENT_DEFAULTS and schema defaults). `npm run config:docs` rewrites the file; a test fails when
 * it is out of date.
 *
 *   npx tsx scripts/config-docs.ts [--check]
 */
import * as fs from "fs";
import * as path from "path";
import ts from "typescript";
import { CONFIG_NAMESPACE, ENVIRONMENT_DEFAULTS, ENVIRONMENTS, parsePlatformConfig } from "../stacks/config";
import { configNamespace, readProject, readStackConfig } from "../engine/project";

const ROOT = path.resolve(__dirname, "..");
const SOURCE = path.join(ROOT, "stacks", "config", "schema.ts");
export const OUTPUT = path.join(ROOT, "docs", "configuration.md");

interface KeyDoc {
    path: string;
    description: string;
    allowed: string;
    optional: boolean;
    /** The schema itself supplies a default (`.default(...)`). */
    schemaDefault: boolean;
}

function jsDoc(node: ts.Node, sf: ts.SourceFile): string {
    const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
    const last = ranges.filter((r) => sf.text.slice(r.pos, r.pos + 3) === "/**").pop();
    if (!last) return "";
    return sf.text
        .slice(last.pos + 3, last.end - 2)
        .split("\n")
        .map((l) => l.replace(/^\s*\*\s?/, "").trim())
        .filter(Boolean)
        .join(" ");
}

/** The object literal of a `z.strictObject({...})` call, if `expr` is one (possibly with method calls after it). */
function strictObjectLiteral(expr: ts.Expression): ts.ObjectLiteralExpression | undefined {
    let e: ts.Expression = expr;
    while (ts.isCallExpression(e)) {
        const callee = e.expression;
        if (ts.isPropertyAccessExpression(callee) && callee.name.text === "strictObject" && e.arguments[0] && ts.isObjectLiteralExpression(e.arguments[0])) {
            return e.arguments[0];
        }
        e = ts.isPropertyAccessExpression(callee) ? callee.expression : callee;
    }
    return undefined;
}

/** The first string literal argument of a call in `expr` (the "allowed" sentence of fmt/count/... helpers). */
function allowedText(expr: ts.Expression, sf: ts.SourceFile): string {
    let found = "";
    const visit = (n: ts.Node): void => {
        if (found) return;
        const isMessage = n.parent && ts.isPropertyAssignment(n.parent) && n.parent.name.getText(sf) === "message";
        if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && n.parent && (ts.isCallExpression(n.parent) || isMessage)) {
            found = n.text;
            return;
        }
        if (ts.isTemplateExpression(n) && n.parent && ts.isPropertyAssignment(n.parent) && n.parent.name.getText(sf) === "message") {
            found = n
                .getText(sf)
                .slice(1, -1)
                .replace(/\$\{ENVIRONMENTS\.join\(", "\)\}/, ENVIRONMENTS.join(", "));
            return;
        }
        ts.forEachChild(n, visit);
    };
    visit(expr);
    const call = expr.getText(sf);
    if (!found) {
        const m = /\b(posInt|count)\((\d+)(?:,\s*(\d+))?\)/.exec(call);
        if (m) found = m[1] === "posInt" ? `an integer from 1 to ${m[2]}` : `an integer from ${m[2]} to ${m[3]}`;
        else if (/\bbool\b/.test(call)) found = "true or false";
        else if (/\bquantity\b/.test(call)) found = "a Kubernetes quantity like 500m, 2, 512Mi or 4Gi";
        else if (/\bcidr\b/.test(call)) found = "an IPv4 CIDR block like 10.20.0.0/16";
    }
    return found;
}

/** Walks the schema source from `platformConfigSchema`, following named schema constants. */
export function schemaKeys(): KeyDoc[] {
    const sf = ts.createSourceFile(SOURCE, fs.readFileSync(SOURCE, "utf8"), ts.ScriptTarget.ES2022, true);
    const consts = new Map<string, ts.Expression>();
    sf.forEachChild((n) => {
        if (!ts.isVariableStatement(n)) return;
        for (const d of n.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer) consts.set(d.name.text, d.initializer);
    });
    const out: KeyDoc[] = [];
    const walk = (literal: ts.ObjectLiteralExpression, prefix: string, seen: Set<string>) => {
        for (const prop of literal.properties) {
            if (!ts.isPropertyAssignment(prop)) continue;
            const key = prop.name.getText(sf);
            const keyPath = prefix ? `${prefix}.${key}` : key;
            const init = prop.initializer;
            const text = init.getText(sf);
            const inline = strictObjectLiteral(init);
            const isArray = /^z\s*\.array\(/.test(text);
            const referenced = [...consts.keys()].find((c) => new RegExp(`^(z\\s*\\.array\\(\\s*)?${c}\\b`).test(text) && strictObjectLiteral(consts.get(c)!));
            const description = jsDoc(prop, sf);
            const schemaDefault = /\.default\(/.test(text);
            const optional = schemaDefault || /\.optional\(\)/.test(text);
            if (inline) {
                out.push({ path: keyPath, description, allowed: "a map", optional, schemaDefault });
                walk(inline, keyPath, seen);
            } else if (referenced && !seen.has(referenced)) {
                const nested = strictObjectLiteral(consts.get(referenced)!)!;
                out.push({ path: keyPath, description, allowed: isArray ? "a list of maps" : "a map", optional, schemaDefault });
                walk(nested, isArray ? `${keyPath}[]` : keyPath, new Set([...seen, referenced]));
            } else if (/z\s*\.record\(/.test(text)) {
                out.push({ path: `${keyPath}.<name>`, description, allowed: allowedText(init, sf) || "a string", optional: true, schemaDefault: false });
            } else {
                out.push({ path: keyPath, description, allowed: allowedText(init, sf), optional, schemaDefault });
            }
        }
    };
    const root = strictObjectLiteral(consts.get("platformConfigSchema")!);
    if (!root) throw new Error("platformConfigSchema not found in stacks/config/schema.ts");
    walk(root, "", new Set());
    return out;
}

function lookup(obj: unknown, keyPath: string): unknown {
    if (keyPath.includes("[]") || keyPath.includes("<name>")) return undefined;
    let v: unknown = obj;
    for (const part of keyPath.split(".")) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string, unknown>)[part];
    }
    return v;
}

function cell(v: unknown): string {
    if (v === undefined) return "";
    if (typeof v === "object" && v !== null) return "";
    return `\`${String(v)}\``;
}

const escape = (s: string) => s.replace(/\|/g, "\\|");

export function render(): string {
    const keys = schemaKeys();
    const lines: string[] = [
        "# Configuration reference",
        "",
        "<!-- Generated by `npm run config:docs` from stacks/config/schema.ts: do not edit by hand. -->",
        "",
        `Every key lives in the \`${CONFIG_NAMESPACE}:\` namespace of \`Pulumi.<stack>.yaml\` and is validated at start-up,`,
        "before any resource is registered (`stacks/config/`): a bad value fails with the key, the value",
        'and what is allowed; an unknown key fails with a "did you mean" suggestion. Keys a stack file omits take',
        "the environment's default (dev small and cheap, test like prod but smaller, prod highly available).",
        "Structured keys are YAML maps; `a.b` below is key `b` of the map `mlops:a`, `a[].b` key `b` of each",
        "list item. Secrets (alert receiver credentials) are set with `pulumi config set --secret --path`.",
        "",
        "Required: **yes** when a stack file must set the key (no default in any environment); **each item**",
        "for a key every item of a list must have; **no** otherwise (a default applies, or the key is optional).",
        "",
        "| Key | Required | What it is | Allowed | dev | test | prod |",
        "|---|---|---|---|---|---|---|",
    ];
    // Defaults: what the environment gives before the stack file is read, plus schema defaults (the
    // real stack files fill the site-specific rest, so parse them to see the schema defaults applied).
    const parsed = Object.fromEntries(
        ENVIRONMENTS.map((env) => {
            const project = readProject(ROOT);
            const raw = configNamespace(readStackConfig(project, env).config, CONFIG_NAMESPACE);
            return [env, parsePlatformConfig(raw, env)];
        }),
    );
    for (const k of keys) {
        const defaults = ENVIRONMENTS.map((env) => {
            const fromEnv = lookup(ENVIRONMENT_DEFAULTS[env], k.path);
            if (fromEnv !== undefined) return cell(fromEnv);
            // A schema default (`.default(...)`) shows in every parsed stack that leaves the key out.
            return k.schemaDefault ? cell(lookup(parsed[env], k.path)) : "";
        });
        const mustGive = !k.optional && defaults.every((d) => d === "") && k.allowed !== "a map";
        const required = !mustGive ? "no" : k.path.includes("[]") ? "each item" : "**yes**";
        lines.push(`| \`${k.path}\` | ${required} | ${escape(k.description)} | ${escape(k.allowed)} | ${defaults.join(" | ")} |`);
    }
    lines.push("", "Cross-key rules (checked after the schema): the OIDC provider is in `aws.accountId` and `aws.region`;");
    lines.push("test and prod use `mlflow.database.kind: rds`, and their images are pinned by digest; prod has MLflow auth,");
    lines.push("Multi-AZ, deletion protection and at least two MLflow replicas; team, receiver and drift-check rules are");
    lines.push("listed in `stacks/config/rules.ts` (`crossFieldProblems`, `teamAndMonitoringProblems`).", "");
    return lines.join("\n");
}

if (require.main === module) {
    const text = render();
    if (process.argv.includes("--check")) {
        const current = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, "utf8") : "";
        if (current !== text) {
            console.error("docs/configuration.md is out of date: run npm run config:docs");
            process.exit(1);
        }
    } else {
        fs.writeFileSync(OUTPUT, text);
        console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
    }
}
