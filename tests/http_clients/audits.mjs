// Runs every graphql-http server audit (GraphQL over HTTP spec conformance) against
// GRAPHQL_URL and prints one JSON line: passed/total per requirement level and each failure
// with its reason and the server's response. Always exits 0 once the audits ran, so the
// Python test judges the outcome; a crash (unreachable server, fatal audit) exits non-zero.
import { serverAudits } from "graphql-http";

const url = process.env.GRAPHQL_URL;
if (!url) {
  console.error("GRAPHQL_URL is not set");
  process.exit(2);
}

const LEVELS = ["MUST", "SHOULD", "MAY"];

async function describeResponse(response) {
  if (!response) return null;
  let body;
  try {
    body = await response.clone().text();
  } catch (error) {
    body = `<body not readable: ${error.message}>`;
  }
  if (body.length > 2000) body = `${body.slice(0, 2000)}...`;
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body,
  };
}

const counts = Object.fromEntries(LEVELS.map((level) => [level, { passed: 0, total: 0 }]));
const failures = [];
for (const audit of serverAudits({ url })) {
  const level = LEVELS.find((l) => audit.name.startsWith(`${l} `));
  const result = await audit.fn();
  counts[level].total += 1;
  if (result.status === "ok") {
    counts[level].passed += 1;
  } else {
    failures.push({
      id: result.id,
      name: result.name,
      level,
      status: result.status,
      reason: result.reason,
      response: await describeResponse(result.response),
    });
  }
}

process.stdout.write(`${JSON.stringify({ counts, failures })}\n`);
