/**
 * Which AWS resource types take tags. The list is generated from the installed @pulumi/aws SDK: a
 * resource is taggable when its constructor takes a `tags` input and computes `tagsAll` (the tags
 * merged with the provider's `defaultTags`). `policy/tools/update-aws-taggable.ts` rewrites the data
 * file; a test fails when it no longer matches the installed SDK.
 */
import * as fs from "fs";
import * as path from "path";
import taggable from "./data/aws-taggable-types.json";

const TAGGABLE = new Set<string>(taggable.types);

/** Does the AWS resource type take tags (and provider default tags)? */
export function isTaggableAwsType(type: string): boolean {
    return TAGGABLE.has(type);
}

/** The @pulumi/aws version the data file was generated from. */
export const TAGGABLE_SOURCE_VERSION: string = taggable.awsVersion;

/** Scans an installed @pulumi/aws package for taggable resource types, sorted. */
export function scanTaggableTypes(awsPackageDir: string): { awsVersion: string; types: string[] } {
    const version = JSON.parse(fs.readFileSync(path.join(awsPackageDir, "package.json"), "utf8")).version as string;
    const types: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                if (entry.name !== "node_modules" && entry.name !== "types") walk(full);
                continue;
            }
            if (!entry.name.endsWith(".js")) continue;
            const text = fs.readFileSync(full, "utf8");
            if (!text.includes('resourceInputs["tagsAll"] = undefined') || !text.includes('resourceInputs["tags"] = args?.tags')) continue;
            const m = /static __pulumiType = '([^']+)'/.exec(text);
            if (m) types.push(m[1]);
        }
    };
    walk(awsPackageDir);
    return { awsVersion: version, types: [...new Set(types)].sort() };
}
