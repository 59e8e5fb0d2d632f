// Validates the ServiceMonitor and PrometheusRule objects of a rendered chart
// against the prometheus-operator CRD schemas that the npm package
// @kubernetes-models/prometheus-operator ships (kubernetes-validate has only
// built-in kinds). Run from a directory where that package is installed.
// usage: node validate-crds.mjs OBJECTS.json MIN_CRD_OBJECTS
import fs from "node:fs";
import { ServiceMonitor, PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const kinds = { ServiceMonitor, PrometheusRule };
let checked = 0, failed = 0;
for (const doc of JSON.parse(fs.readFileSync(process.argv[2], "utf8"))) {
  if (!doc || !kinds[doc.kind]) continue;
  checked++;
  try {
    new kinds[doc.kind](doc).validate();
    console.log(`CRD schema ok: ${doc.kind}/${doc.metadata.name}`);
  } catch (e) {
    failed++;
    console.error(`CRD schema violation: ${doc.kind}/${doc.metadata.name}: ${e.message}`);
  }
}
const want = parseInt(process.argv[3] || "0", 10);
if (checked < want) {
  console.error(`expected at least ${want} CRD objects, found ${checked}`);
  process.exit(1);
}
process.exit(failed ? 1 : 0);
