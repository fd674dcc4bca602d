/**
 * Builds (or finds cached) the real node's pause image and Debian base layer at install time, so the
 * suite's setup only adds the small application layers (run by install-node.sh; see e2e/lib/nodeImages.ts).
 */
import { buildBaseLayer, buildPauseImage } from "../lib/nodeImages";

console.log(`e2e node: pause image ${buildPauseImage()}`);
console.log(`e2e node: base layer ${buildBaseLayer()}`);
