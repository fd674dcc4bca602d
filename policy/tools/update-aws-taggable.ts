/**
 * Regenerates policy/readers/data/aws-taggable-types.json from the installed @pulumi/aws:
 * `npx tsx policy/tools/update-aws-taggable.ts`. Run it after upgrading @pulumi/aws.
 */
import * as fs from "fs";
import * as path from "path";
import { scanTaggableTypes } from "../readers/awsTaggable";

const awsDir = path.dirname(require.resolve("@pulumi/aws/package.json"));
const out = path.join(__dirname, "..", "readers", "data", "aws-taggable-types.json");
const data = scanTaggableTypes(awsDir);
fs.writeFileSync(out, `${JSON.stringify(data, null, 1)}\n`);
console.log(`wrote ${data.types.length} taggable types of @pulumi/aws ${data.awsVersion} to ${path.relative(process.cwd(), out)}`);
