/**
 * Builds (or finds cached) the images of the platform's charts for the real node at install time (run by
 * install-node.sh after chart-binaries.sh; see e2e/lib/chartImages.ts), so the charts suite only imports them.
 */
import { chartImages } from "../lib/chartImages";

for (const [name, image] of Object.entries(chartImages())) console.log(`e2e node: chart image ${name} ${image.archive}`);
