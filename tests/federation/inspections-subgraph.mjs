// A second subgraph, as another team would write it: inspection reports for charging
// connections. It extends our ConnectionInfo entity with a field of its own and refers to
// our ConnectionInfo and ConnectionType entities by id, which the gateway then resolves
// through our `_entities`; likewise site audits extend our ChargePoint and refer to our
// ChargePoint and Operator. Data is made up from the ids, so the test can predict it.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import gql from "graphql-tag";

const port = Number(process.env.PORT);
// The connection ids this subgraph has reports for, chosen by the test from our database.
const inspectedIds = (process.env.INSPECTED_IDS || "").split(",").filter(Boolean).map(Number);
// The sites (charge point ids) this subgraph has audits for, likewise.
const auditedSiteIds = (process.env.AUDITED_SITE_IDS || "").split(",").filter(Boolean).map(Number);

export const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

  type ConnectionInfo @key(fields: "id") {
    id: Int!
    "The latest inspection of this connection, from the inspections subgraph."
    lastInspection: Inspection!
  }

  type ConnectionType @key(fields: "id", resolvable: false) {
    id: Int!
  }

  type ChargePoint @key(fields: "id") {
    id: Int!
    "How many audits the site has had, from the inspections subgraph."
    auditCount: Int!
  }

  type Operator @key(fields: "id", resolvable: false) {
    id: Int!
  }

  type SiteAudit {
    chargePointId: Int!
    chargePoint: ChargePoint!
    "The operator the auditor found running the site."
    operator: Operator!
  }

  type Inspection {
    connectionInfoId: Int!
    passed: Boolean!
    note: String!
    connectionInfo: ConnectionInfo!
    "The connector type the inspector recommends fitting instead."
    recommendedConnectionType: ConnectionType!
  }

  type Query {
    inspections: [Inspection!]!
    siteAudits: [SiteAudit!]!
  }
`;

const inspection = (id) => ({
  connectionInfoId: id,
  passed: id % 2 === 0,
  note: `Inspection of connection ${id}`,
  connectionInfo: { __typename: "ConnectionInfo", id },
  recommendedConnectionType: { __typename: "ConnectionType", id: id % 2 === 0 ? 33 : 25 },
});

const auditCount = (id) => id % 5;
const audit = (id) => ({
  chargePointId: id,
  chargePoint: { __typename: "ChargePoint", id },
  operator: { __typename: "Operator", id: id % 2 === 0 ? 5 : 3 },
});

const resolvers = {
  ChargePoint: {
    __resolveReference: (ref) => ({ id: ref.id }),
    auditCount: (site) => auditCount(site.id),
  },
  ConnectionInfo: {
    __resolveReference: (ref) => ({ id: ref.id }),
    lastInspection: (connection) => inspection(connection.id),
  },
  Query: {
    inspections: () => inspectedIds.map(inspection),
    siteAudits: () => auditedSiteIds.map(audit),
  },
};

const server = new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs, resolvers }]) });
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port } });
console.log(`inspections subgraph ready at ${url}`);
