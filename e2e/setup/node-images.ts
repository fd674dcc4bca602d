/**
 * Builds (or finds cached) the real node's images at install time, so the suites' setup only imports
 * them (run by install-node.sh; see e2e/lib/nodeImages.ts and e2e/lib/platformImages.ts): the pause image
 * and the Debian base layer, then the platform's images (MLflow, the example model server, the drift
 * check, PostgreSQL and the Pushgateway from Debian).
 */
import * as fs from "fs";
import { buildBaseLayer, buildPauseImage } from "../lib/nodeImages";
import { driftCheckImage, mlflowImage, modelServerImage, postgresImage, PUSHGATEWAY_BINARY, pushgatewayImage } from "../lib/platformImages";

console.log(`e2e node: pause image ${buildPauseImage()}`);
console.log(`e2e node: base layer ${buildBaseLayer()}`);
// The platform's images (e2e/platformNode.e2e.test.ts): minutes of wall time on an empty cache, mostly downloads (docs/e2e.md).
for (const [name, build] of Object.entries({
    mlflow: mlflowImage,
    "model-server": modelServerImage,
    "drift-check": driftCheckImage,
    postgres: postgresImage,
})) {
    console.log(`e2e node: ${name} image ${build().archive}`);
}
// Debian's Pushgateway comes with install.sh's packages.
if (fs.existsSync(PUSHGATEWAY_BINARY)) console.log(`e2e node: pushgateway image ${pushgatewayImage().archive}`);
