// Composes our subgraph SDL (read from stdin, as `ocm-gql export-schema --federation`
// prints it) with the inspections subgraph using @apollo/composition, and prints the
// outcome as JSON: errors (must be none) and hints.
import { composeServices } from "@apollo/composition";
import { readFileSync } from "node:fs";
import gql from "graphql-tag";

process.env.PORT ??= "0";
const ours = readFileSync(0, "utf8");
const inspections = readFileSync(new URL("./inspections-subgraph.mjs", import.meta.url), "utf8");
const theirs = inspections.match(/typeDefs = gql`([\s\S]*?)`;/)[1];

const result = composeServices([
  { name: "ocm", typeDefs: gql(ours), url: "http://127.0.0.1/ocm" },
  { name: "inspections", typeDefs: gql(theirs), url: "http://127.0.0.1/inspections" },
]);
console.log(
  JSON.stringify({
    errors: (result.errors || []).map((e) => e.message),
    hints: (result.hints || []).map((h) => `${h.definition.code}: ${h.message}`),
    supergraph: Boolean(result.supergraphSdl),
  }),
);
